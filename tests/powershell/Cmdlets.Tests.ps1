BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force

    # Runs a command that must fail and returns its error record.
    function Get-ErrorOf([scriptblock] $Command) {
        $caught = $null
        try { & $Command -ErrorAction Stop | Out-Null } catch { $caught = $_ }
        if (-not $caught) { throw 'The command did not fail.' }
        $caught
    }
}

Describe 'Before Connect-TtmFleet' {
    BeforeAll { Disconnect-TtmFleet }

    It '<Command> fails with TtmNotConnected and names Connect-TtmFleet' -ForEach @(
        @{ Command = 'Get-TtmFarm' }, @{ Command = 'Get-TtmFarmRole' }, @{ Command = 'Get-TtmRole' },
        @{ Command = 'Get-TtmServer' }, @{ Command = 'Get-TtmNextRoleVersion -Role Sidekiq' },
        @{ Command = 'New-TtmRoleSnapshot -Farm Dev -Role Sidekiq' }, @{ Command = 'Set-TtmFarmRole -Farm Dev -Role Sidekiq-1-6' },
        @{ Command = 'Set-TtmRoleImage -Role Sidekiq -Image ami-1' }, @{ Command = 'Invoke-TtmRecycle -Farm Dev' }
    ) {
        $record = Get-ErrorOf ([scriptblock]::Create($Command))
        $record.FullyQualifiedErrorId | Should -BeLike 'TtmNotConnected,*'
        $record.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $record.Exception.Message | Should -Match 'Connect-TtmFleet'
    }
}

Describe 'Connect-TtmFleet' {
    It 'seeds a new Sandbox and returns the connection' {
        $sandbox = New-TestSandbox
        $sandbox.Connection.Backend | Should -Be 'Sandbox'
        $sandbox.StateFile | Should -Exist
        (Get-TtmFleet).Location | Should -Be $sandbox.StateFile
    }

    It 'uses a name-table configuration file' {
        $config = Join-Path $TestDrive 'config.json'
        '{ "chefRoles": { "Reports": "ReportsServer" } }' | Set-Content $config
        Connect-TtmFleet -Sandbox -Path (Join-Path $TestDrive 'fleet') -ConfigurationPath $config | Out-Null
        (Get-TtmFarmRole -Farm Dev -Alias Reports).ChefRole | Should -Be 'ReportsServer'
        (Get-TtmFarmRole -Farm Dev -Alias Sidekiq).ChefRole | Should -Be 'SidekiqServer'
    }

    It 'refuses a broken configuration file with TtmConfigInvalid' {
        $config = Join-Path $TestDrive 'broken.json'
        '{ "procfile": 7 }' | Set-Content $config
        $record = Get-ErrorOf { Connect-TtmFleet -Sandbox -Path (Join-Path $TestDrive 'fleet2') -ConfigurationPath $config }
        $record.FullyQualifiedErrorId | Should -BeLike 'TtmConfigInvalid,*'
        $record.CategoryInfo.Category | Should -Be 'InvalidData'
    }
}

Describe 'Reading the fleet' {
    BeforeAll { $script:sandbox = New-TestSandbox }

    It 'Get-TtmFarm lists the runbook farms and takes wildcards' {
        (Get-TtmFarm).Name | Should -Be @('Dev', 'Production', 'Rebundle-Staging')
        (Get-TtmFarm -Name 'Rebundle*').Name | Should -Be 'Rebundle-Staging'
    }

    It 'an unknown farm is a non-terminating TtmFarmNotFound error that suggests the nearest name' {
        $farms = Get-TtmFarm -Name Prodution, Dev -ErrorVariable errors -ErrorAction SilentlyContinue
        $farms.Name | Should -Be 'Dev'
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'TtmFarmNotFound,*'
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errors[0].Exception.Message | Should -Match "Did you mean 'Production'\?"
        $errors[0].TargetObject | Should -Be 'Prodution'
    }

    It 'Get-TtmFarmRole shows the staging farm running TTM-Base under each alias' {
        $roles = Get-TtmFarmRole -Farm Rebundle-Staging
        $roles.Alias | Should -Be @('DevDebug', 'NodeAppServer', 'RailsAppServer', 'Sidekiq', 'SystemWatcher', 'TTM-Base')
        $roles.Role | Sort-Object -Unique | Should -Be 'TTM-Base'
    }

    It 'Get-TtmRole lists production roles, their versions, and the latest versions' {
        (Get-TtmRole).Name | Should -Not -Contain 'RailsAppServer-1-6'
        (Get-TtmRole -Name RailsAppServer -IncludeVersions).Name | Should -Be @('RailsAppServer', 'RailsAppServer-1-6')
        (Get-TtmRole -Name RailsAppServer-1-6).Version.ToString() | Should -Be '1-6'
        (Get-TtmRole -Latest).Name | Should -Contain 'Sidekiq-1-6'
        (Get-TtmRole -Latest).IsVersioned | Sort-Object -Unique | Should -BeTrue
    }

    It 'an unknown role is TtmRoleNotFound with a suggestion' {
        Get-TtmRole -Name RailsAppSrver -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'TtmRoleNotFound,*'
        $errors[0].Exception.Message | Should -Match 'RailsAppServer'
    }

    It 'Get-TtmServer -Role matches the alias, so TTM-Base on staging is one server' {
        $base = Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base
        $base | Should -HaveCount 1
        $base.Name | Should -Be 'TTM-Base.1'
        (Get-TtmServer -Farm Production -Role RailsAppServer).Name | Should -Be @('RailsAppServer.1', 'RailsAppServer.2')
        Get-TtmServer -Farm Dev -Status Pending | Should -BeNullOrEmpty
        (Get-TtmServer -Farm Dev -Status Running) | Should -HaveCount 6
    }

    It 'Get-TtmNextRoleVersion gives the next minor, the next major, and 1-0 for a new role' {
        (Get-TtmNextRoleVersion -Role RailsAppServer).NextRoleName | Should -Be 'RailsAppServer-1-7'
        (Get-TtmNextRoleVersion -Role RailsAppServer-1-6 -Major).NextVersion.ToString() | Should -Be '2-0'
        (Get-TtmNextRoleVersion -Role TTM-Base -WarningVariable quiet).NextVersion.ToString() | Should -Be '1-0'
        $quiet | Should -BeNullOrEmpty -Because 'TTM-Base exists, it just has no versions'
        (Get-TtmNextRoleVersion -Role RailsAppSrver -WarningVariable typo -WarningAction SilentlyContinue).NextVersion.ToString() | Should -Be '1-0'
        $typo[0].Message | Should -Match "no role named 'RailsAppSrver'.*Did you mean 'RailsAppServer'"
        (Get-TtmRole -Name Sidekiq | Get-TtmNextRoleVersion).NextRoleName | Should -Be 'Sidekiq-1-7'
    }

    It 'default table views fit an 80-column terminal without cutting ids' {
        foreach ($objects in @((Get-TtmServer), (Get-TtmRole -IncludeVersions), (Get-TtmFarmRole), (Get-TtmFarm))) {
            $text = $objects | Out-String -Width 80
            $text -split "`n" | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }
            $text | Should -Not -Match '…'
        }
        (Get-TtmServer -Farm Dev | Out-String -Width 80) | Should -Match 'i-[0-9a-f]{17}'
    }
}

Describe 'New-TtmRoleSnapshot' {
    BeforeEach { $script:sandbox = New-TestSandbox }

    It 'names the snapshot of a staging server after its alias, not after TTM-Base' {
        $role = Get-TtmServer -Farm Rebundle-Staging -Role RailsAppServer | New-TtmRoleSnapshot
        $role.Name | Should -Be 'RailsAppServer-1-7'
        $role.BaseName | Should -Be 'RailsAppServer'
        (Get-TtmRole -Name RailsAppServer-1-7).ImageId | Should -Be $role.ImageId
    }

    It '-Major bumps to 2-0, and -Farm with -Role picks the server' {
        (New-TtmRoleSnapshot -Farm Rebundle-Staging -Role RailsAppServer -Major).Name | Should -Be 'RailsAppServer-2-0'
    }

    It 'refuses a malformed -Version with TtmVersionMalformed before touching anything' {
        $hash = Get-FileHashText $sandbox.StateFile
        foreach ($bad in '2.5', '-1-0', 'x-y', '2-') {
            $record = Get-ErrorOf { New-TtmRoleSnapshot -Farm Rebundle-Staging -Role Sidekiq -Version $bad }
            $record.FullyQualifiedErrorId | Should -BeLike 'TtmVersionMalformed,*'
            $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
            # The message names the value it refused, then shows the form it wants.
            $record.Exception.Message | Should -BeLike "'$bad' is not a role version.*such as '2-5'*"
        }
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }

    It 'refuses to snapshot twice to the same versioned name' {
        New-TtmRoleSnapshot -Farm Rebundle-Staging -Role Sidekiq -Version 1-9 | Out-Null
        $image = (Get-TtmRole -Name Sidekiq-1-9).ImageId
        New-TtmRoleSnapshot -Farm Rebundle-Staging -Role Sidekiq -Version 1-9 -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'TtmRoleAlreadyExists,*'
        $errors[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        (Get-TtmRole -Name Sidekiq-1-9).ImageId | Should -Be $image
    }

    It 'refuses a server that is not running with TtmServerNotRunning' {
        $old = Get-TtmServer -Farm Rebundle-Staging -Role Sidekiq
        Invoke-TtmRecycle -Farm Rebundle-Staging -Role Sidekiq | Out-Null
        # $old still says Running, but the server has been terminated since.
        $old | New-TtmRoleSnapshot -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'TtmServerNotRunning,*'
        $errors[0].Exception.Message | Should -Match 'Sidekiq.1 of farm Rebundle-Staging is Terminated'
        Get-TtmRole -Name Sidekiq-1-7 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'an empty pipeline is a TtmEmptyInput error, not silence' {
        @() | New-TtmRoleSnapshot -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'TtmEmptyInput,*'
    }

    It 'a failed image is an error naming the server, and leaves no role behind' {
        Set-TtmSandbox -FailImage 'NodeAppServer-1-7'
        Get-TtmServer -Farm Rebundle-Staging -Role NodeAppServer | New-TtmRoleSnapshot -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'TtmImageFailed,*'
        $errors[0].Exception.Message | Should -Match 'NodeAppServer.1'
        Get-TtmRole -Name NodeAppServer-1-7 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It '-WhatIf changes nothing: the Sandbox file is byte-identical' {
        $hash = Get-FileHashText $sandbox.StateFile
        Get-TtmServer -Farm Rebundle-Staging | New-TtmRoleSnapshot -WhatIf
        New-TtmRoleSnapshot -Farm Rebundle-Staging -Role TTM-Base -ReplaceImage -WhatIf
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }
}

Describe 'Set-TtmFarmRole and Set-TtmRoleImage' {
    BeforeEach { $script:sandbox = New-TestSandbox }

    It 'Set-TtmFarmRole swaps a piped role into the farm role aliased by its base name' {
        Get-TtmRole -Name Sidekiq-1-6 | Set-TtmFarmRole -Farm Dev
        (Get-TtmFarmRole -Farm Dev -Alias Sidekiq).Role | Should -Be 'Sidekiq-1-6'
        (Get-TtmFarmRole -Farm Production -Alias Sidekiq).Role | Should -Be 'Sidekiq'
    }

    It 'Set-TtmFarmRole refuses an unknown role or farm, with suggestions, changing nothing' {
        $hash = Get-FileHashText $sandbox.StateFile
        Set-TtmFarmRole -Farm Dev -Role Sidekiq-9-9 -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'TtmRoleNotFound,*'
        $record = Get-ErrorOf { Set-TtmFarmRole -Farm Deb -Role Sidekiq-1-6 }
        $record.FullyQualifiedErrorId | Should -BeLike 'TtmFarmNotFound,*'
        $record.Exception.Message | Should -Match "Did you mean 'Dev'"
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }

    It 'Set-TtmFarmRole and Set-TtmRoleImage with an empty pipeline are TtmEmptyInput errors' {
        @() | Set-TtmFarmRole -Farm Dev -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'TtmEmptyInput,*'
        @() | Set-TtmRoleImage -ErrorVariable errors2 -ErrorAction SilentlyContinue
        $errors2[0].FullyQualifiedErrorId | Should -BeLike 'TtmEmptyInput,*'
    }

    It 'Set-TtmRoleImage gives a versioned role''s image to its base-name role' {
        $snapshot = New-TtmRoleSnapshot -Farm Rebundle-Staging -Role Sidekiq
        $snapshot | Set-TtmRoleImage -Force
        (Get-TtmRole -Name Sidekiq).ImageId | Should -Be $snapshot.ImageId
        (Get-TtmRole -Name Sidekiq-1-6).ImageId | Should -Not -Be $snapshot.ImageId
    }

    It 'Set-TtmRoleImage refuses an image that does not exist' {
        Set-TtmRoleImage -Role Sidekiq -Image ami-00000000000000bad -Force -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'TtmImageNotFound,*'
    }

    It '-WhatIf changes nothing on either cmdlet' {
        $hash = Get-FileHashText $sandbox.StateFile
        Get-TtmRole -Latest | Set-TtmFarmRole -Farm Dev -WhatIf -WarningAction SilentlyContinue
        Get-TtmRole -Latest | Set-TtmFarmRole -Farm Production -WhatIf -WarningAction SilentlyContinue
        Set-TtmRoleImage -Role Sidekiq -Image (Get-TtmRole -Name TTM-Base).ImageId -WhatIf
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }
}

Describe 'Invoke-TtmRecycle' {
    BeforeEach { $script:sandbox = New-TestSandbox -Delay 0.1 }

    It 'replaces every server of the farm and outputs what it replaced' {
        $before = Get-TtmServer -Farm Dev
        $recycled = Invoke-TtmRecycle -Farm Dev -BatchSize 2
        $recycled | Should -HaveCount 6
        $recycled[0].PSObject.TypeNames[0] | Should -Be 'Rebundle.Runbook.RecycledServer'
        $after = Get-TtmServer -Farm Dev
        $after | Should -HaveCount 6
        $after.Id | Where-Object { $_ -in $before.Id } | Should -BeNullOrEmpty
    }

    It 'stops at the first failed replacement with an error naming the server, keeping it' {
        Set-TtmSandbox -FailBoot 'Dev/NodeAppServer'
        $old = Get-TtmServer -Farm Dev -Role NodeAppServer
        $record = Get-ErrorOf { Invoke-TtmRecycle -Farm Dev }
        $record.FullyQualifiedErrorId | Should -BeLike 'TtmReplacementFailed,*'
        $record.Exception.Message | Should -Match 'NodeAppServer.1'
        (Get-TtmServer -Farm Dev -Role NodeAppServer).Id | Should -Be $old.Id
        # Aliases go in order; those after the failure were not touched.
        (Get-TtmServer -Farm Dev -Role SystemWatcher).Name | Should -Be 'SystemWatcher.1'
        Get-TtmServer -Farm Dev | Should -HaveCount 6
    }

    It 'times out a replacement that never runs, keeping the old server' {
        Set-TtmSandbox -NeverBoot 'Dev/DevDebug'
        $old = Get-TtmServer -Farm Dev -Role DevDebug
        $record = Get-ErrorOf { Invoke-TtmRecycle -Farm Dev -Timeout '0:0:1' }
        $record.FullyQualifiedErrorId | Should -BeLike 'TtmReplacementTimeout,*'
        $record.CategoryInfo.Category | Should -Be 'OperationTimeout'
        (Get-TtmServer -Farm Dev -Role DevDebug).Id | Should -Be $old.Id
    }

    It '-WhatIf changes nothing' {
        $hash = Get-FileHashText $sandbox.StateFile
        Invoke-TtmRecycle -Farm Production, Dev -WhatIf
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }

    It 'an unknown farm is TtmFarmNotFound and nothing is recycled' {
        $hash = Get-FileHashText $sandbox.StateFile
        Invoke-TtmRecycle -Farm Dve -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'TtmFarmNotFound,*'
        $errors[0].Exception.Message | Should -Match "Did you mean 'Dev'"
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }

    It 'Ctrl+C stops it cleanly, leaving the farm with exactly its old servers' {
        Set-TtmSandbox -BootDelay '0:0:30'
        $before = @(Get-TtmServer -Farm Dev -Status Running, Pending).Id | Sort-Object
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$(Get-RebundleModulePath)'; Connect-TtmFleet -Sandbox -Path '$($sandbox.Path)' | Out-Null; Invoke-TtmRecycle -Farm Dev -BatchSize 2")
        $async = $ps.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while ((Get-TtmServer -Farm Dev -Status Pending).Count -lt 2 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        (Get-TtmServer -Farm Dev -Status Pending) | Should -HaveCount 2
        $started = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $started.Elapsed.TotalSeconds | Should -BeLessThan 5
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $ps.Dispose()
        # Live is Pending + Running: a replacement left Pending would be one server too many.
        $live = @(Get-TtmServer -Farm Dev -Status Running, Pending)
        $live | Should -HaveCount 6
        $live.Id | Sort-Object | Should -Be $before
        $live.Status | Sort-Object -Unique | Should -Be 'Running'
    }
}

Describe 'The Production guard' {
    BeforeAll { $script:sandbox = New-TestSandbox }

    It 'asks before changing <Name>, and a non-interactive session without -Force changes nothing' -ForEach @(
        @{ Name = 'a Production farm role'; Command = 'Set-TtmFarmRole -Farm Production -Role Sidekiq-1-6' }
        @{ Name = 'a role Production runs'; Command = "Set-TtmRoleImage -Role Sidekiq -Image (Get-TtmRole -Name TTM-Base).ImageId" }
        @{ Name = 'the Production farm'; Command = 'Invoke-TtmRecycle -Farm Production' }
    ) {
        $hash = Get-FileHashText $sandbox.StateFile
        $output = Invoke-ChildRebundle "`$ErrorView = 'NormalView'; Connect-TtmFleet -Sandbox -Path '$($sandbox.Path)' | Out-Null; $Command"
        ($output -join "`n") | Should -Match 'TtmApprovalRequired'
        ($output -join "`n") | Should -Match 'protected farm Production.*Pass -Force'
        $LASTEXITCODE | Should -Not -Be 0
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }

    It 'goes ahead with -Force or -Confirm:$false' {
        Set-TtmFarmRole -Farm Production -Role Sidekiq-1-6 -Force
        (Get-TtmFarmRole -Farm Production -Alias Sidekiq).Role | Should -Be 'Sidekiq-1-6'
        Set-TtmFarmRole -Farm Production -Role Sidekiq -Confirm:$false
        (Get-TtmFarmRole -Farm Production -Alias Sidekiq).Role | Should -Be 'Sidekiq'
    }

    It 'does not ask for Dev' {
        $output = @(Invoke-ChildRebundle "Connect-TtmFleet -Sandbox -Path '$($sandbox.Path)' | Out-Null; Set-TtmFarmRole -Farm Dev -Role Sidekiq-1-6; (Get-TtmFarmRole -Farm Dev -Alias Sidekiq).Role")
        $output[-1] | Should -Be 'Sidekiq-1-6'
    }
}

Describe 'Two PowerShell processes on one Sandbox' {
    It 'take turns on the state file: every change lands and the file stays valid' {
        $sandbox = New-TestSandbox
        # Two farms: the state file is shared, the farm leases are not (a second run on one farm is TtmFarmBusy).
        $jobs = foreach ($pair in @('Rebundle-Staging', 'RailsAppServer'), @('Dev', 'Sidekiq')) {
            Start-Job -ArgumentList (Get-RebundleModulePath), $sandbox.Path, $pair[0], $pair[1] -ScriptBlock {
                param($module, $path, $farm, $alias)
                Import-Module $module
                Connect-TtmFleet -Sandbox -Path $path | Out-Null
                foreach ($minor in 1..8) { New-TtmRoleSnapshot -Farm $farm -Role $alias -Version "5-$minor" | Out-Null }
            }
        }
        $jobs | Wait-Job -Timeout 120 | Receive-Job -ErrorAction Stop
        $jobs | Remove-Job -Force
        { Get-Content $sandbox.StateFile -Raw | ConvertFrom-Json } | Should -Not -Throw
        (Get-TtmRole -Name 'RailsAppServer-5-*').Count | Should -Be 8
        (Get-TtmRole -Name 'Sidekiq-5-*').Count | Should -Be 8
    }
}
