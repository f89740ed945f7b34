BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force

    # Live servers (running or pending) of a farm role, straight from the Sandbox's state file,
    # so a test sees what another process left behind.
    function Get-LiveCount([string] $Farm, [string] $Alias) {
        @(Get-TtmServer -Farm $Farm -Role $Alias -Status Running, Pending).Count
    }

    function Start-ChildRecycle([string] $Path, [string] $Script) {
        $pwsh = Get-PwshCommand
        $full = "Import-Module '$(Get-RebundleModulePath)'; Connect-TtmFleet -Sandbox -Path '$Path' -AuditLogPath '$Path/audit.log' | Out-Null; $Script"
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($full))
        Start-Process -FilePath $pwsh.Exe -ArgumentList (@($pwsh.Prefix) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded)) -PassThru `
            -RedirectStandardOutput (Join-Path $Path 'child.out') -RedirectStandardError (Join-Path $Path 'child.err')
    }
}

Describe 'Invoke-TtmRecycle scope from the pipeline' {
    BeforeEach { $script:sandbox = New-TestSandbox -Delay 0.1 }

    It 'replaces exactly the piped scope: <Name>' -ForEach @(
        @{ Name = 'servers from Get-TtmServer'; Command = { Get-TtmServer -Farm Dev -Role Sidekiq | Invoke-TtmRecycle } }
        @{ Name = 'farm roles from Get-TtmFarmRole'; Command = { Get-TtmFarmRole -Farm Dev -Alias Sidekiq | Invoke-TtmRecycle } }
        @{ Name = 'CSV rows with Farm and Alias'; Command = {
                @([pscustomobject]@{ Farm = 'Dev'; Alias = 'Sidekiq' }) | Export-Csv (Join-Path $sandbox.Path 'rows.csv')
                Import-Csv (Join-Path $sandbox.Path 'rows.csv') | Invoke-TtmRecycle } }
        @{ Name = 'Get-TtmFarmRole exported to CSV (its Role column names a role, not an alias)'; Command = {
                Get-TtmFarmRole -Farm Dev -Alias Sidekiq | Export-Csv (Join-Path $sandbox.Path 'farmroles.csv')
                Import-Csv (Join-Path $sandbox.Path 'farmroles.csv') | Invoke-TtmRecycle } }
    ) {
        $sidekiq = Get-TtmServer -Farm Dev -Role Sidekiq
        $others = Get-TtmServer -Farm Dev | Where-Object Alias -ne 'Sidekiq'
        $others | Should -HaveCount 5

        $recycled = & $Command

        $recycled | Should -HaveCount 1
        $recycled.OldId | Should -Be $sidekiq.Id
        $after = Get-TtmServer -Farm Dev
        $after | Should -HaveCount 6
        ($after | Where-Object Alias -ne 'Sidekiq').Id | Sort-Object | Should -Be ($others.Id | Sort-Object) -Because 'the other Dev servers keep their ids'
        (Get-TtmServer -Farm Dev -Role Sidekiq).Id | Should -Not -Be $sidekiq.Id
    }

    It 'recycles farms in the order <Name>' -ForEach @(
        @{ Name = 'typed'; Command = { Invoke-TtmRecycle -Farm Rebundle-Staging, Dev -Role Sidekiq } }
        @{ Name = 'piped'; Command = { 'Rebundle-Staging', 'Dev' | Invoke-TtmRecycle -Role Sidekiq } }
    ) {
        $recycled = & $Command
        $recycled.Farm | Should -Be @('Rebundle-Staging', 'Dev')
    }

    It '-WhatIf names exactly the piped servers and changes nothing' {
        $hash = Get-FileHashText $sandbox.StateFile
        # What-if text goes to the host, so it is read from a child's output.
        $output = Invoke-ChildRebundle "Connect-TtmFleet -Sandbox -Path '$($sandbox.Path)' | Out-Null; Get-TtmServer -Farm Dev -Role Sidekiq, Reports | Invoke-TtmRecycle -WhatIf"
        ($output -join "`n") | Should -Match 'Replace 2 server\(s\) of farm Dev in 2 batch\(es\) of at most 1: Reports.1, Sidekiq.1"'
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }
}

Describe 'Invoke-TtmRecycle converges' {
    BeforeEach { $script:sandbox = New-TestSandbox -Delay 0.1 }

    It 'Ctrl+C leaves every farm role at exactly its count' {
        Set-TtmSandbox -BootDelay '0:0:30'
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$(Get-RebundleModulePath)'; Connect-TtmFleet -Sandbox -Path '$($sandbox.Path)' | Out-Null; Invoke-TtmRecycle -Farm Dev -BatchSize 2")
        $null = $ps.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (@(Get-TtmServer -Farm Dev -Status Pending).Count -lt 2 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        Get-TtmServer -Farm Dev -Status Pending | Should -HaveCount 2 -Because 'the recycle has launched its first batch'
        $ps.Stop()
        $ps.Dispose()

        foreach ($farmRole in Get-TtmFarmRole -Farm Dev) {
            Get-LiveCount Dev $farmRole.Alias | Should -Be $farmRole.DesiredCount -Because "$($farmRole.Alias) is left at its count"
        }
    }

    It 'after kill -9 mid-recycle, the next recycle leaves every farm role at its count, on the current image' {
        # Sidekiq's role gets a new image, so the old servers differ from their replacements.
        Set-TtmRoleImage -Role Sidekiq -Image (Get-TtmRole -Name TTM-Base).ImageId -Force | Out-Null
        Set-TtmSandbox -BootDelay '0:0:4'
        $child = Start-ChildRecycle $sandbox.Path 'Invoke-TtmRecycle -Farm Dev -Role Sidekiq, Reports -BatchSize 2 | Out-Null'
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not $child.HasExited -and [DateTime]::UtcNow -lt $deadline -and
               @(Get-TtmServer -Farm Dev -Status Pending).Count -lt 1) { Start-Sleep -Milliseconds 20 }
        $child.HasExited | Should -BeFalse -Because 'the recycle is killed while a replacement boots'
        @(Get-TtmServer -Farm Dev -Status Pending).Count | Should -BeGreaterThan 0 -Because 'the kill comes once a replacement is launched'
        $child.Kill($true)
        $child.WaitForExit()
        @(Get-TtmServer -Farm Dev).Count | Should -BeGreaterThan 6 -Because 'the killed run left its replacement behind'

        Invoke-TtmRecycle -Farm Dev -WarningVariable warnings -WarningAction SilentlyContinue | Out-Null

        $images = @{}; Get-TtmRole | ForEach-Object { $images[$_.Name] = $_.ImageId }
        foreach ($farmRole in Get-TtmFarmRole -Farm Dev) {
            $live = @(Get-TtmServer -Farm Dev -Role $farmRole.Alias -Status Running, Pending)
            $live | Should -HaveCount $farmRole.DesiredCount -Because "$($farmRole.Alias) ends at its count"
            $live.ImageId | Should -Be $images[$farmRole.Role] -Because "$($farmRole.Alias) runs its role's current image"
            $live.Status | Should -Be 'Running'
        }
        ($warnings -join "`n") | Should -Match 'live servers for a count of 1' -Because 'the surplus found is named'
    }
}

Describe 'Invoke-TtmRecycle plans that read at scale' {
    BeforeEach { $script:sandbox = New-TestSandbox -Delay 0.1 }

    It '-WhatIf on a 504-server farm summarises per farm role and names the first few; -Verbose names every server' {
        Set-TtmSandbox -Scale @{ 'Production/RailsAppServer' = 400; 'Production/Sidekiq' = 100 }
        (Get-TtmServer -Farm Production) | Should -HaveCount 504
        $hash = Get-FileHashText $sandbox.StateFile
        $output = Invoke-ChildRebundle "Connect-TtmFleet -Sandbox -Path '$($sandbox.Path)' | Out-Null; Invoke-TtmRecycle -Farm Production -BatchSize 100 -WhatIf -Verbose *>&1 | ForEach-Object { `"`$_`" }"
        $whatIf = @($output | Where-Object { $_ -match 'What if' })
        $whatIf | Should -HaveCount 1
        $whatIf[0] | Should -Match 'Replace 504 server\(s\) of farm Production in 6 batch\(es\) of at most 100 \(DevDebug 1, NodeAppServer 1, RailsAppServer 400, Reports 1, Sidekiq 100, SystemWatcher 1\), first DevDebug.1, NodeAppServer.1, RailsAppServer.1, RailsAppServer.2, RailsAppServer.3 and 499 more'
        $whatIf[0].Length | Should -BeLessThan 400
        $verbose = ($output | Where-Object { $_ -match '^Replace 504' }) -join "`n"
        $verbose | Should -Match 'RailsAppServer.400, Reports.1, Sidekiq.1'
        $verbose | Should -Match 'Sidekiq.100, SystemWatcher.1$'
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }
}

Describe 'Invoke-TtmRecycle batches in the audit log' {
    BeforeEach { $script:sandbox = New-TestSandbox -Delay 0.1 }

    It "Get-TtmAuditLog -Target 'Production/RailsAppServer/*' finds the batched launches and terminations, and each server finds its batch" {
        Set-TtmSandbox -Scale @{ 'Production/RailsAppServer' = 6 }
        $old = Get-TtmServer -Farm Production -Role RailsAppServer
        $old | Should -HaveCount 6

        Invoke-TtmRecycle -Farm Production -Role RailsAppServer -BatchSize 3 -Force | Out-Null

        $new = Get-TtmServer -Farm Production -Role RailsAppServer
        $new | Should -HaveCount 6
        $log = @(Get-TtmAuditLog -Target 'Production/RailsAppServer/*')
        $log.Action | Sort-Object -Unique | Should -Be @('DeregisterTargets', 'LaunchServer', 'RegisterTargets', 'TerminateServer') -Because 'the web role is behind a load balancer'
        $log.Outcome | Sort-Object -Unique | Should -Be 'Done'
        $log.Count | Should -BeLessThan 12 -Because 'a batch is one entry, not one per server'
        foreach ($server in @($old) + @($new)) {
            $found = @(Get-TtmAuditLog -Target "Production/RailsAppServer/$($server.Name)")
            $found.Action | Should -Contain $(if ($server.Id -in $old.Id) { 'TerminateServer' } else { 'LaunchServer' }) -Because "$($server.Name) ($($server.Id)) is named by its batch"
        }
    }
}
