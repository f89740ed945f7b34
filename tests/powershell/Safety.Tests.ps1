# The safety kernel as an operator (and an attacker) meets it, on the Sandbox and on the loopback
# EC2 endpoint alike: approval decided from what a change touches, in `pwsh -NonInteractive`
# child processes; the write-ahead audit; leases. Every case here broke on the main of 2026-11-27.

BeforeDiscovery {
    $script:backends = @(
        @{ Backend = 'Sandbox' }
        @{ Backend = 'Aws' }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'helpers/Ec2Endpoint.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
    Set-Ec2TestCredentials

    # Runs one script in two `pwsh -NonInteractive` processes at the same time; returns both outputs.
    function Invoke-TwiceAtOnce([string] $Script, [int] $TimeoutSeconds) {
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("Import-Module '$(Get-RebundleModulePath)'; $Script"))
        $pwsh = Get-PwshCommand
        $jobs = 1..2 | ForEach-Object {
            Start-ThreadJob -ScriptBlock { param($exe, $prefix, $encoded) & $exe @prefix -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 | ForEach-Object { "$_" } } -ArgumentList $pwsh.Exe, $pwsh.Prefix, $encoded
        }
        $jobs | Wait-Job -Timeout $TimeoutSeconds | Receive-Job
        $jobs | Remove-Job -Force
    }

    function Get-FleetPicture([string] $Farm) {
        (Get-TtmServer -Farm $Farm | Sort-Object Id | ForEach-Object { "$($_.Alias)=$($_.Id)" }) -join ',' +
        '|' + ((Get-TtmFarmRole -Farm $Farm | Sort-Object Alias | ForEach-Object { "$($_.Alias)->$($_.Role)" }) -join ',')
    }
}

AfterAll {
    Stop-TestEc2Endpoint
    Restore-Ec2TestCredentials
}

Describe 'Approval is decided by what a change touches (<Backend>)' -ForEach $backends {
    BeforeAll {
        $script:fleet = New-GuardedFleet -Backend $Backend
    }

    It 'refuses a rebundle whose test farm is Production, before Production changes (issue 10, case 2)' {
        $before = Get-FleetPicture Production

        $run = Invoke-NonInteractive $fleet "Invoke-TtmRebundle -SkipOsUpdate -Role Sidekiq -TestFarm Production -BatchSize 3 -JournalPath '$(Join-Path $fleet.Folder 'j.jsonl')' -ErrorAction Stop"

        $run.Text | Should -Match 'TtmApprovalRequired'
        $run.Text | Should -Match 'protected farm Production'
        $run.Text | Should -Match '-ApproveProduction'
        $run.ExitCode | Should -Not -Be 0
        Get-FleetPicture Production | Should -Be $before
    }

    It 'refuses snapshots of Production servers in a non-interactive run, and makes no role (case 3)' {
        $roles = (Get-TtmRole -IncludeVersions).Name
        $auditLength = (Get-Item $fleet.AuditLog).Length
        if ($fleet.Endpoint) { Clear-Ec2RequestLog $fleet.Endpoint }

        $run = Invoke-NonInteractive $fleet 'Get-TtmServer -Farm Production -Role Sidekiq | New-TtmRoleSnapshot'

        $run.Text | Should -Match 'TtmApprovalRequired'
        $run.ExitCode | Should -Not -Be 0
        (Get-Item $fleet.AuditLog).Length | Should -Be $auditLength -Because 'a refused change is not announced'
        if ($fleet.Endpoint) {
            # EC2 is eventually consistent: the role the case above made may only now be listed, so
            # what this run did is read from the requests it sent, not from a list before and after.
            @(Get-Ec2RequestLog $fleet.Endpoint | Where-Object mutating).action | Should -BeNullOrEmpty -Because 'no image, no role'
        }
        else {
            (Get-TtmRole -IncludeVersions).Name | Should -Be $roles
        }
    }

    It 'snapshots a Production server with -Force' {
        $next = (Get-TtmNextRoleVersion -Role Sidekiq).NextRoleName
        $run = Invoke-NonInteractive $fleet 'Get-TtmServer -Farm Production -Role Sidekiq | New-TtmRoleSnapshot -Force -NoReboot -Timeout 0:2:0 | ForEach-Object { "made:" + $_.Name }'

        $run.Lines | Where-Object { $_ -like 'made:*' } | Should -Be "made:$next"
    }

    It 'refuses a role image change that Production runs with a Ttm error id and a failing exit code (case 13)' {
        $image = (Get-TtmRole -Name TTM-Base).ImageId
        $before = (Get-TtmRole -Name Sidekiq).ImageId

        $run = Invoke-NonInteractive $fleet "Set-TtmRoleImage -Role Sidekiq -Image '$image'"

        $run.Text | Should -Match 'TtmApprovalRequired'
        $run.Text | Should -Not -Match 'NonInteractive mode'
        $run.ExitCode | Should -Not -Be 0
        (Get-TtmRole -Name Sidekiq).ImageId | Should -Be $before
    }

    It 'finds a role image change under Production/* in the audit log, as the farms it touched (case 9)' {
        $image = (Get-TtmRole -Name TTM-Base).ImageId
        Set-TtmRoleImage -Role Sidekiq -Image $image -Force | Out-Null

        $entry = Get-TtmAuditLog -Path $fleet.AuditLog -Target 'Production/*' -Action SetRoleImage | Select-Object -Last 1

        $entry.Target | Should -Be 'role/Sidekiq'
        $entry.After | Should -Be $image
        $entry.Farms | Should -Contain 'Production'
        $entry.Outcome | Should -Be 'Done'
    }
}

Describe 'Write-ahead audit (issue 10, case 9)' {
    BeforeAll {
        $script:fleet = New-GuardedFleet
    }

    It 'changes nothing when the audit log cannot be written, and says so with TtmAuditFailed' {
        $file = Join-Path $fleet.Folder 'not-a-folder'
        Set-Content $file 'x'
        Connect-TtmFleet -Sandbox -Path $fleet.Folder -AuditLogPath (Join-Path $file 'audit.log') | Out-Null
        $before = Get-FleetPicture Dev

        $record = $null
        try { Invoke-TtmRecycle -Farm Dev -Role Sidekiq -ErrorAction Stop } catch { $record = $_ }

        $record.FullyQualifiedErrorId | Should -BeLike 'TtmAuditFailed*'
        $record.Exception.Message | Should -Match '-AuditLogPath'
        Get-FleetPicture Dev | Should -Be $before
        Connect-TtmFleet -Sandbox -Path $fleet.Folder -AuditLogPath $fleet.AuditLog | Out-Null
    }

    It 'keeps every entry after a torn line, warns with its number, and starts the next entry on a new line' {
        Set-TtmFarmRole -Farm Dev -Alias Reports -Role Reports-1-6 | Out-Null
        [IO.File]::AppendAllText($fleet.AuditLog, '{"time":"2026-11-28T00:00:00Z","chan')
        Set-TtmFarmRole -Farm Dev -Alias Reports -Role Reports | Out-Null

        $changes = Get-TtmAuditLog -Path $fleet.AuditLog -Target 'Dev/Reports' -WarningVariable warnings 3>$null

        $changes.After | Should -Be @('Reports-1-6', 'Reports')
        $warnings | Should -HaveCount 1
        "$warnings" | Should -Match 'Line \d+ of the audit log'
    }
}

Describe 'Leases (issue 10, case 5)' {
    BeforeAll {
        $script:fleet = New-GuardedFleet
        # Boots long enough that the two processes' recycles overlap whatever their start-up times.
        Set-TtmSandbox -BootDelay ([TimeSpan]::FromSeconds(8)) -RespawnDelay ([TimeSpan]::FromSeconds(60))
    }

    It 'lets one of two recycles of a farm run at once; the other is TtmFarmBusy naming the holder, and each farm role ends at its count' {
        $counts = @{}
        Get-TtmFarmRole -Farm Dev | ForEach-Object { $counts[$_.Alias] = $_.DesiredCount }
        $script = "`$ErrorView = 'NormalView'; $($fleet.Connect); Invoke-TtmRecycle -Farm Dev -BatchSize 6 -Timeout 0:2:0 | Out-Null; 'exit:' + `$?"
        $outputs = Invoke-TwiceAtOnce $script -TimeoutSeconds 180

        ($outputs -match 'TtmFarmBusy') | Should -Not -BeNullOrEmpty
        ($outputs -join "`n") | Should -Match "farm Dev is in use by another run: .* \(process \d+, Invoke-TtmRecycle"
        Get-TtmFarmRole -Farm Dev | ForEach-Object {
            @(Get-TtmServer -Farm Dev -Role $_.Alias -Status Running, Pending).Count | Should -Be $counts[$_.Alias] -Because "farm role $($_.Alias) wants $($counts[$_.Alias])"
        }
    }

    It 'lets one of two resumes of one journal run; the other is TtmFarmBusy naming the journal, and Production ends at its counts' {
        $journal = Join-Path $fleet.Folder 'twice.jsonl'
        Set-TtmSandbox -BootDelay ([TimeSpan]::Zero) -ImageDelay ([TimeSpan]::Zero)
        Invoke-TtmRebundle -SkipOsUpdate -Role Sidekiq -BatchSize 6 -JournalPath $journal 6>$null | Out-Null
        Set-TtmSandbox -BootDelay ([TimeSpan]::FromSeconds(8))
        $counts = @{}
        Get-TtmFarmRole -Farm Production | ForEach-Object { $counts[$_.Alias] = $_.DesiredCount }
        $script = "`$ErrorView = 'NormalView'; $($fleet.Connect); Invoke-TtmRebundle -Resume '$journal' -ApproveProduction 6>`$null | Out-Null"
        $outputs = Invoke-TwiceAtOnce $script -TimeoutSeconds 240

        ($outputs -join "`n") | Should -Match ([regex]::Escape("journal $journal is in use by another run"))
        Get-TtmFarmRole -Farm Production | ForEach-Object {
            @(Get-TtmServer -Farm Production -Role $_.Alias -Status Running, Pending).Count | Should -Be $counts[$_.Alias] -Because "farm role $($_.Alias) wants $($counts[$_.Alias])"
        }
        @(Get-TtmRole -IncludeVersions | Where-Object Name -like 'Sidekiq-1-*').Count | Should -Be 2 -Because 'Sidekiq-1-6 and the one new version, made once'
    }
}
