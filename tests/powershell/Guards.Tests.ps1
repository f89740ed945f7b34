# The guards an operator relies on, each tried the way a scheduled script meets it: in a child
# `pwsh -NonInteractive`, where nobody can answer a prompt. A refused change must say
# TtmApprovalRequired, fail the script's exit code, and leave the fleet file and the audit log as
# they were (issue 12, "Behaviours with no test today").

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

    # What "nothing changed" means: the Sandbox file byte for byte (on EC2: the mutating requests
    # it has answered), and the audit log's length. A farm lease's ttm:lease tag is not a change.
    function Get-FleetState($Fleet) {
        $audit = if (Test-Path $Fleet.AuditLog) { (Get-Item $Fleet.AuditLog).Length } else { 0 }
        if ($Fleet.Endpoint) {
            $changes = @(Get-Ec2RequestLog $Fleet.Endpoint | Where-Object { $_.mutating -and ($_.parameters | ConvertTo-Json -Compress) -notmatch 'ttm:lease' })
            return "ec2 changes:$(($changes | ForEach-Object { $_.action }) -join ',') audit:$audit"
        }
        "$(Get-FileHashText $Fleet.StateFile) audit:$audit"
    }

    function Assert-Refused($Run, [string] $Farm, [string] $Before, $Fleet) {
        $Run.Text | Should -Match 'TtmApprovalRequired'
        $Run.Text | Should -Match ([regex]::Escape($Farm))
        $Run.ExitCode | Should -Not -Be 0
        Get-FleetState $Fleet | Should -Be $Before -Because 'a refused change changes neither the fleet nor the audit log'
    }
}

AfterAll {
    Stop-TestEc2Endpoint
    Restore-Ec2TestCredentials
}

Describe 'The Production guard in pwsh -NonInteractive, for every changing cmdlet (<Backend>)' -ForEach $backends {
    BeforeAll {
        $script:fleet = New-GuardedFleet -Backend $Backend
        $script:baseImage = (Get-TtmRole -Name TTM-Base).ImageId
    }

    It 'New-TtmRoleSnapshot -ReplaceImage of a role Production runs is refused, even from a Dev server' {
        $before = Get-FleetState $fleet

        $run = Invoke-NonInteractive $fleet 'New-TtmRoleSnapshot -Farm Dev -Role Sidekiq -ReplaceImage -Timeout 0:1:0'

        Assert-Refused $run 'Production' $before $fleet
    }

    It 'Set-TtmFarmRole on a Production farm role is refused' {
        $before = Get-FleetState $fleet

        $run = Invoke-NonInteractive $fleet 'Set-TtmFarmRole -Farm Production -Role Sidekiq-1-6'

        Assert-Refused $run 'Production' $before $fleet
        (Get-TtmFarmRole -Farm Production -Alias Sidekiq).Role | Should -Be 'Sidekiq'
    }

    It 'Set-TtmRoleImage of a role Production runs is refused' {
        $before = Get-FleetState $fleet

        $run = Invoke-NonInteractive $fleet "Set-TtmRoleImage -Role Sidekiq -Image '$baseImage'"

        Assert-Refused $run 'Production' $before $fleet
    }

    It 'Invoke-TtmRecycle -Farm Production is refused' {
        $before = Get-FleetState $fleet

        $run = Invoke-NonInteractive $fleet 'Invoke-TtmRecycle -Farm Production -Timeout 0:1:0'

        Assert-Refused $run 'Production' $before $fleet
    }

    It 'Set-TtmFarmRole on a Production farm role goes through with -Force (the refusals above are the guard, not a broken child)' {
        $run = Invoke-NonInteractive $fleet 'Set-TtmFarmRole -Farm Production -Role Sidekiq-1-6 -Force'

        $run.ExitCode | Should -Be 0 -Because $run.Text
        (Get-TtmFarmRole -Farm Production -Alias Sidekiq).Role | Should -Be 'Sidekiq-1-6'
        Set-TtmFarmRole -Farm Production -Role Sidekiq -Force | Out-Null
    }
}

Describe 'Invoke-TtmRebundle and Undo-TtmRebundle in pwsh -NonInteractive' {
    BeforeAll {
        $script:fleet = New-GuardedFleet
        $script:journal = Join-Path $fleet.Folder 'sidekiq.jsonl'
        $script:seededImage = (Get-TtmRole -Name Sidekiq).ImageId
    }

    It 'without -ApproveProduction stops at the gate: Dev runs the new version, Production is untouched' {
        $run = Invoke-NonInteractive $fleet "(Invoke-TtmRebundle -SkipOsUpdate -Role Sidekiq -JournalPath '$journal' 6>`$null).Status"

        $run.Lines | Select-Object -Last 1 | Should -Be 'WaitingForApproval' -Because $run.Text
        (Get-TtmFarmRole -Farm Dev -Alias Sidekiq).Role | Should -Be 'Sidekiq-1-7'
        (Get-TtmRole -Name Sidekiq).ImageId | Should -Be $seededImage
        (Get-TtmServer -Farm Production -Role Sidekiq).ImageId | Should -Be $seededImage
    }

    It 'resumed with -ApproveProduction, promotes Sidekiq-1-7 and recycles Production onto it' {
        $run = Invoke-NonInteractive $fleet "(Invoke-TtmRebundle -Resume '$journal' -ApproveProduction 6>`$null).Status"

        $run.Lines | Select-Object -Last 1 | Should -Be 'Completed' -Because $run.Text
        $image = (Get-TtmRole -Name Sidekiq-1-7).ImageId
        (Get-TtmRole -Name Sidekiq).ImageId | Should -Be $image
        (Get-TtmServer -Farm Production -Role Sidekiq -Status Running).ImageId | Should -Be $image
    }

    It 'Undo-TtmRebundle of that run is refused without -Force: it would put back the image of a role Production runs' {
        $before = Get-FleetState $fleet

        # Warnings go to the child's host, not its output: print them, then keep Undo's own success or failure as the exit code.
        $run = Invoke-NonInteractive $fleet "Undo-TtmRebundle -Journal '$journal' -WarningVariable w 3>`$null; `$failed = -not `$?; `$w | ForEach-Object { 'warning: ' + `$_ }; if (`$failed) { exit 1 }"

        $run.Text | Should -Match 'TtmApprovalRequired'
        $run.Text | Should -Match 'Production'
        $run.Text | Should -Match 'Nothing was undone'
        $run.ExitCode | Should -Not -Be 0
        (Get-TtmFarmRole -Farm Dev -Alias Sidekiq).Role | Should -Be 'Sidekiq-1-7' -Because 'a refused undo is not made half: Dev stays as the rebundle left it'
        (Get-TtmRole -Name Sidekiq).ImageId | Should -Be (Get-TtmRole -Name Sidekiq-1-7).ImageId
        (Get-TtmServer -Farm Production -Role Sidekiq -Status Running).ImageId | Should -Be (Get-TtmRole -Name Sidekiq-1-7).ImageId
        Get-FleetState $fleet | Should -Be $before
    }
}

Describe 'Remove-TtmRoleVersion asks before every deletion' {
    BeforeAll {
        $script:fleet = New-GuardedFleet
        # A second version of Reports (made from Dev, which needs no approval), so KeepLatest 1 has one to retire.
        Get-TtmServer -Farm Dev -Role Reports | New-TtmRoleSnapshot -Timeout 0:1:0 | Out-Null
        $script:noJournals = Join-Path $fleet.Folder 'journals'
        New-Item -ItemType Directory $noJournals | Out-Null
    }

    It 'is refused in pwsh -NonInteractive without -Force, and deletes nothing' {
        $before = Get-FleetState $fleet

        $run = Invoke-NonInteractive $fleet "Remove-TtmRoleVersion -Role Reports -KeepLatest 1 -JournalPath '$noJournals'"

        $run.Text | Should -Match 'TtmApprovalRequired'
        $run.Text | Should -Match 'cannot be undone'
        $run.ExitCode | Should -Not -Be 0
        Get-FleetState $fleet | Should -Be $before
        (Get-TtmRole -Name 'Reports-*' -IncludeVersions).Name | Sort-Object | Should -Be @('Reports-1-6', 'Reports-1-7')
    }

    It 'with -Force retires the older version' {
        $run = Invoke-NonInteractive $fleet "Remove-TtmRoleVersion -Role Reports -KeepLatest 1 -JournalPath '$noJournals' -Force | ForEach-Object { 'retired:' + `$_.Name }"

        $run.Lines | Where-Object { $_ -like 'retired:*' } | Should -Be 'retired:Reports-1-6' -Because $run.Text
        (Get-TtmRole -Name 'Reports-*' -IncludeVersions).Name | Should -Be 'Reports-1-7'
    }
}

Describe 'A protected farm named in the configuration file' {
    BeforeAll {
        $config = Join-Path $TestDrive 'protect-dev.json'
        '{ "protectedFarms": ["Dev"] }' | Set-Content $config
        $script:fleet = New-GuardedFleet -ConfigurationPath $config
    }

    It 'protects Dev: Set-TtmFarmRole and Invoke-TtmRecycle there are refused in pwsh -NonInteractive' {
        $before = Get-FleetState $fleet

        $set = Invoke-NonInteractive $fleet 'Set-TtmFarmRole -Farm Dev -Role Sidekiq-1-6'
        $recycle = Invoke-NonInteractive $fleet 'Invoke-TtmRecycle -Farm Dev -Role Sidekiq -Timeout 0:1:0'

        Assert-Refused $set 'protected farm Dev' $before $fleet
        Assert-Refused $recycle 'protected farm Dev' $before $fleet
    }

    It 'a Dev change goes through with -Force' {
        $run = Invoke-NonInteractive $fleet 'Set-TtmFarmRole -Farm Dev -Role Sidekiq-1-6 -Force'

        $run.ExitCode | Should -Be 0 -Because $run.Text
        (Get-TtmFarmRole -Farm Dev -Alias Sidekiq).Role | Should -Be 'Sidekiq-1-6'
    }
}

Describe 'A piped server is the whole scope of Invoke-TtmRecycle' {
    BeforeAll {
        $script:fleet = New-GuardedFleet
    }

    It 'replaces one of the two Production RailsAppServer servers when only that one is piped' {
        # Every Dev farm role has one server, so only a farm role of two tells a server from its farm role.
        $first, $second = Get-TtmServer -Farm Production -Role RailsAppServer | Sort-Object Name

        $recycled = $first | Invoke-TtmRecycle -Force -Timeout 0:1:0

        $recycled.OldId | Should -Be $first.Id
        $live = Get-TtmServer -Farm Production -Role RailsAppServer -Status Running, Pending
        $live | Should -HaveCount 2
        $live.Id | Should -Contain $second.Id
        $live.Id | Should -Not -Contain $first.Id
    }

    It 'a piped server that is gone is TtmServerNotFound, and its replacement is left alone' {
        $old = Get-TtmServer -Farm Dev -Role Reports
        Invoke-TtmRecycle -Farm Dev -Role Reports -Timeout 0:1:0 | Out-Null
        $replacement = Get-TtmServer -Farm Dev -Role Reports

        $old | Invoke-TtmRecycle -Timeout 0:1:0 -ErrorVariable failed -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        $failed[0].FullyQualifiedErrorId | Should -BeLike 'TtmServerNotFound,*'
        (Get-TtmServer -Farm Dev -Role Reports).Id | Should -Be $replacement.Id
    }
}
