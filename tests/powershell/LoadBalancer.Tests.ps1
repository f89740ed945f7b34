# Farm roles behind a load balancer, on the Sandbox's simulated target groups: what an operator
# sees (Get-TtmFarmRole, the fleet report), what a recycle does (register, wait for healthy,
# deregister, drain, terminate) and how it refuses or stops.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
}

Describe 'Load-balanced farm roles on the Sandbox' {
    BeforeEach { $script:sandbox = New-TestSandbox -Delay 0.1 }

    It 'Get-TtmFarmRole shows the target groups of the web roles, and none for the others' {
        $web = Get-TtmFarmRole -Farm Production -Alias RailsAppServer
        $web.TargetGroups | Should -Be @('production-railsappserver')
        (Get-TtmFarmRole -Farm Production -Alias Sidekiq).TargetGroups | Should -HaveCount 0
        (Get-TtmFarmRole -Farm Production | Format-Table | Out-String -Width 160) | Should -Match 'NodeAppServer +1 +NodeAppServer +production-nodeappserver'
    }

    It 'the fleet report counts healthy servers of each web role' {
        $row = Get-TtmFleetReport -Farm Production | Where-Object Alias -eq 'RailsAppServer'
        $row.Healthy | Should -Be 2
        $row.Wanted | Should -Be 2
        (Get-TtmFleetReport -Farm Production | Where-Object Alias -eq 'Sidekiq').Healthy | Should -BeNullOrEmpty
    }

    It 'a recycle registers the replacement, deregisters the old one and terminates it only after, in the audit log' {
        Set-TtmSandbox -HealthDelay 0:0:0.5 -DrainDelay 0:0:1
        $old = Get-TtmServer -Farm Dev -Role RailsAppServer

        $recycled = Invoke-TtmRecycle -Farm Dev -Role RailsAppServer

        $recycled.OldId | Should -Be $old.Id
        $log = Get-TtmAuditLog -Target 'Dev/RailsAppServer*' -Action RegisterTargets, DeregisterTargets, TerminateServer
        $log.Action | Should -Be @('RegisterTargets', 'DeregisterTargets', 'TerminateServer')
        $log[0].Before | Should -Match $recycled.NewId
        $log[1].Before | Should -Match $old.Id
        ($log[2].Time - $log[1].Time).TotalSeconds | Should -BeGreaterOrEqual 1 -Because 'the old server drains for the 1 s deregistration delay first'
        (Get-TtmFleetReport -Farm Dev | Where-Object Alias -eq 'RailsAppServer').Healthy | Should -Be 1
    }

    It 'an unhealthy replacement stops the recycle with TtmReplacementUnhealthy and the old server keeps serving' {
        Set-TtmSandbox -FailHealth 'Dev/RailsAppServer'
        $old = Get-TtmServer -Farm Dev -Role RailsAppServer

        { Invoke-TtmRecycle -Farm Dev -Role RailsAppServer -HealthGrace 0:0:1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'TtmReplacementUnhealthy,Rebundle.PowerShell.Commands.InvokeTtmRecycleCommand'

        (Get-TtmServer -Farm Dev -Role RailsAppServer -Status Running, Pending).Id | Should -Be $old.Id
        (Get-TtmFleetReport -Farm Dev | Where-Object Alias -eq 'RailsAppServer').Healthy | Should -Be 1
        (Get-TtmAuditLog -Action DeregisterTargets).Before | Should -Not -Match $old.Id
    }

    It '-WhatIf registers and deregisters nothing' {
        $hash = Get-FileHashText $sandbox.StateFile
        Invoke-TtmRecycle -Farm Dev -Role RailsAppServer -WhatIf
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
        Get-TtmAuditLog -Action RegisterTargets | Should -BeNullOrEmpty
    }

    It 'Set-TtmSandbox -FailHealth refuses a farm role the Sandbox has not got' {
        { Set-TtmSandbox -FailHealth 'Dev/NoSuchRole' -ErrorAction Stop } | Should -Throw -ErrorId 'TtmInvalidArgument,Rebundle.PowerShell.Commands.SetTtmSandboxCommand'
    }
}
