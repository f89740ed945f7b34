# Ctrl+C (StopProcessing) for the long cmdlets: each runs in a PowerShell started
# asynchronously and Stop()ped as the host does on Ctrl+C. Stop must return within a few
# seconds and leave the fleet as an operator would want it: every farm role with its live
# (Pending + Running) servers, nothing made that is not on record, and a run that can go on.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'helpers/Ec2Endpoint.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force

    # The command running in its own runspace on the same Sandbox and audit log, as a second window would.
    function Start-Stoppable([object] $Sandbox, [string] $Script) {
        Start-InRunspace "Connect-TtmFleet -Sandbox -Path '$($Sandbox.Path)' -AuditLogPath '$($Sandbox.AuditLog)' | Out-Null; $Script"
    }

    function Start-InRunspace([string] $Script) {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$(Get-RebundleModulePath)'; $Script")
        [pscustomobject]@{ PowerShell = $ps; Async = $ps.BeginInvoke() }
    }

    # Waits (at most 60 s) until the condition holds; fails the test otherwise.
    function Wait-Until([scriptblock] $Condition, [string] $What) {
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out waiting until $What." }
            Start-Sleep -Milliseconds 100
        }
    }

    # Presses Ctrl+C; returns the seconds Stop() took.
    function Stop-Stoppable([object] $Run) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $Run.PowerShell.Stop()
        $watch.Elapsed.TotalSeconds
        $Run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        $Run.PowerShell.Dispose()
    }

    # Live (Pending + Running) servers per farm role, "Farm/Alias=N", sorted.
    function Get-LiveCounts {
        Get-TtmServer -Status Pending, Running | Group-Object { "$($_.Farm)/$($_.Alias)" } |
            ForEach-Object { "$($_.Name)=$($_.Count)" } | Sort-Object
    }

    # The journal's last entry type ("recycle-staging.replaced", "undo.restored", ...).
    function Get-LastJournalType([string] $Journal) {
        ((Get-Content $Journal | Select-Object -Last 1) -split ' ', 2)[1] | ConvertFrom-Json | ForEach-Object type
    }
}

Describe 'Ctrl+C during New-TtmRoleSnapshot''s wait for its image' {
    BeforeAll { $script:sandbox = New-TestSandbox }

    It 'stops within seconds, creates no role, and the pending image is on record' {
        Set-TtmSandbox -ImageDelay '0:10:0'
        $run = Start-Stoppable $sandbox 'New-TtmRoleSnapshot -Farm Rebundle-Staging -Role Sidekiq'
        Wait-Until { (Test-Path $sandbox.AuditLog) -and @(Get-TtmAuditLog -Path $sandbox.AuditLog -Action CreateImage | Where-Object Outcome -EQ 'Done').Count -eq 1 } 'the image is started'

        Stop-Stoppable $run | Should -BeLessThan 5

        (Get-TtmRole -IncludeVersions).Name | Should -Not -Contain 'Sidekiq-1-7'
        Get-TtmAuditLog -Path $sandbox.AuditLog -Action CreateRole | Should -BeNullOrEmpty
        # The image goes on being made; the audit log says which it is, so it is not lost.
        $image = (Get-TtmAuditLog -Path $sandbox.AuditLog -Action CreateImage).After
        $image | Should -Match '^image \S+ named Sidekiq-1-7$'
        $state = Get-Content $sandbox.StateFile -Raw | ConvertFrom-Json
        @($state.images | Where-Object name -EQ 'Sidekiq-1-7').Id | Should -Be ($image -split ' ')[1]
    }
}

Describe 'Ctrl+C during Invoke-TtmRebundle' {
    BeforeAll {
        $script:sandbox = New-TestSandbox -Delay 0.1
        $script:journal = Join-Path $sandbox.Path 'rebundle.jsonl'
    }

    It 'stops within seconds in the staging recycle, leaves every farm role its servers, and -Resume finishes the run' {
        $before = Get-LiveCounts
        Set-TtmSandbox -BootDelay '0:0:30'
        $run = Start-Stoppable $sandbox "Invoke-TtmRebundle -SkipOsUpdate -BatchSize 2 -JournalPath '$journal' -ApproveProduction"
        Wait-Until { @(Get-TtmServer -Farm Rebundle-Staging -Status Pending).Count -ge 1 } 'the staging recycle launches replacements'

        Stop-Stoppable $run | Should -BeLessThan 5

        Get-LiveCounts | Should -Be $before
        @(Get-TtmServer -Status Pending) | Should -HaveCount 0 -Because 'the stop terminates the replacements it launched'
        Get-LastJournalType $journal | Should -BeLike 'recycle-staging.*'

        Set-TtmSandbox -BootDelay '0:0:0.1'
        $result = Invoke-TtmRebundle -Resume $journal -ApproveProduction
        $result.Status | Should -Be 'Completed'
        Get-LiveCounts | Should -Be $before
        $image = (Get-TtmRole -Name Sidekiq-1-7).ImageId
        (Get-TtmServer -Farm Production -Role Sidekiq).ImageId | Sort-Object -Unique | Should -Be $image
    }
}

Describe 'Ctrl+C during Undo-TtmRebundle' {
    BeforeAll {
        $script:sandbox = New-TestSandbox -Delay 0.1
        $script:journal = Join-Path $sandbox.Path 'rebundle.jsonl'
    }

    It 'stops within seconds in its recycle, leaves every farm role its servers, and a second undo finishes' {
        $images = @{}; Get-TtmRole | ForEach-Object { $images[$_.Name] = $_.ImageId }
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 3 -JournalPath $journal -ApproveProduction | Out-Null
        $before = Get-LiveCounts
        Set-TtmSandbox -BootDelay '0:0:30'
        $run = Start-Stoppable $sandbox "Undo-TtmRebundle -Journal '$journal' -BatchSize 3 -Force"
        Wait-Until { @(Get-TtmServer -Status Pending).Count -ge 1 } 'the undo recycles onto the old images'

        Stop-Stoppable $run | Should -BeLessThan 5

        Get-LiveCounts | Should -Be $before
        @(Get-TtmServer -Status Pending) | Should -HaveCount 0 -Because 'the stop terminates the replacements it launched'
        Get-LastJournalType $journal | Should -BeLike 'undo.*'

        Set-TtmSandbox -BootDelay '0:0:0.1'
        Undo-TtmRebundle -Journal $journal -BatchSize 3 -Force | Out-Null
        Get-TtmRole | ForEach-Object { $_.ImageId | Should -Be $images[$_.Name] -Because "$($_.Name) is back on its old image" }
        (Get-TtmServer -Farm Production -Role Sidekiq).ImageId | Should -Be $images['Sidekiq']
        Get-LiveCounts | Should -Be $before
    }
}

Describe 'Ctrl+C while EC2 holds its answer (loopback endpoint process)' {
    BeforeAll {
        Set-Ec2TestCredentials
        $script:ec2 = Start-TestEc2Endpoint
        Connect-TestEc2Fleet $ec2 | Out-Null
    }

    AfterAll {
        Invoke-RestMethod -Method Post -Uri "$($ec2.Url)_ttm/release" | Out-Null
        Stop-TestEc2Endpoint
        Restore-Ec2TestCredentials
    }

    It 'Invoke-TtmRecycle stopped during a stalled RunInstances returns within 2 s and launches nothing' {
        $before = Get-LiveCounts
        Clear-Ec2RequestLog $ec2
        Invoke-RestMethod -Method Post -Uri "$($ec2.Url)_ttm/stall?action=RunInstances" | Out-Null
        $run = Start-InRunspace "Connect-TtmFleet -Aws -EndpointUrl '$($ec2.Url)' -Region us-east-1 -PollInterval '0:0:0.2' | Out-Null; Invoke-TtmRecycle -Farm Dev -Role Reports"
        Wait-Until { (Invoke-RestMethod -Uri "$($ec2.Url)_ttm/stall").held } 'EC2 holds the launch'

        Stop-Stoppable $run | Should -BeLessThan 2

        Wait-Until { (Invoke-RestMethod -Uri "$($ec2.Url)_ttm/stall").abandoned -ge 1 } 'the SDK drops the held request'
        Invoke-RestMethod -Method Post -Uri "$($ec2.Url)_ttm/release" | Out-Null
        Get-Ec2RequestLog $ec2 | Where-Object action -In 'RunInstances', 'TerminateInstances' | Should -BeNullOrEmpty
        Get-LiveCounts | Should -Be $before
    }
}
