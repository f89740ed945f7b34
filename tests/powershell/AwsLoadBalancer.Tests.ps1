# The web roles behind ELBv2 target groups on the loopback endpoint, through the cmdlets: what
# Get-TtmFarmRole and the fleet report show, the order of a recycle's calls as the endpoint saw
# them, and how an unhealthy replacement or a refused registration stops it.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'helpers/Ec2Endpoint.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
    Set-Ec2TestCredentials
}

AfterAll {
    Stop-TestEc2Endpoint
    Restore-Ec2TestCredentials
}

Describe 'Load-balanced farm roles on AWS (loopback ELBv2)' {
    BeforeEach {
        Stop-TestEc2Endpoint
        $script:ec2 = Start-TestEc2Endpoint -TargetGroups -DeregistrationDelaySeconds 1 -HealthCheckIntervalSeconds 0.2 -HealthyThreshold 2
        Connect-TestEc2Fleet $script:ec2 | Out-Null
    }

    It 'Get-TtmFarmRole and the fleet report show the target groups and the healthy count' {
        (Get-TtmFarmRole -Farm Production -Alias RailsAppServer).TargetGroups | Should -Be @('production-railsappserver')
        $row = Get-TtmFleetReport -Farm Production | Where-Object Alias -eq 'RailsAppServer'
        $row.Healthy | Should -Be 2
        (Get-TtmFleetReport -Farm Production | Where-Object Alias -eq 'Sidekiq').Healthy | Should -BeNullOrEmpty
    }

    It 'a recycle registers the replacement, deregisters the old server once the new one is healthy, and terminates it after the drain' {
        $old = Get-TtmServer -Farm Dev -Role RailsAppServer
        Clear-Ec2RequestLog $ec2

        $recycled = Invoke-TtmRecycle -Farm Dev -Role RailsAppServer

        $calls = @(Get-Ec2RequestLog $ec2 | Where-Object { $_.action -in 'RegisterTargets', 'DeregisterTargets', 'TerminateInstances' -and $_.status -eq 200 })
        $calls.action | Should -Be @('RegisterTargets', 'DeregisterTargets', 'TerminateInstances')
        $states = Get-Ec2TargetHealth $ec2 -TargetGroup dev-railsappserver
        @($states.Keys) | Should -Be @($recycled.NewId)
        $states[$recycled.NewId] | Should -Be 'healthy'
        $recycled.OldId | Should -Be $old.Id
    }

    It 'an unhealthy replacement stops the recycle with TtmReplacementUnhealthy; the old server keeps serving' {
        $old = Get-TtmServer -Farm Dev -Role RailsAppServer
        Set-Ec2Fault $ec2 -UnhealthyRegistrations 1

        { Invoke-TtmRecycle -Farm Dev -Role RailsAppServer -HealthGrace 0:0:1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'TtmReplacementUnhealthy,Rebundle.PowerShell.Commands.InvokeTtmRecycleCommand'

        $states = Get-Ec2TargetHealth $ec2 -TargetGroup dev-railsappserver
        $states[$old.Id] | Should -Be 'healthy'
        (Get-TtmServer -Farm Dev -Role RailsAppServer -Status Running, Pending).Id | Should -Be $old.Id
    }

    It 'a refused RegisterTargets stops the recycle with TtmAccessDenied before anything is deregistered' {
        $old = Get-TtmServer -Farm Dev -Role RailsAppServer
        Set-Ec2Fault $ec2 -DenyElb 'RegisterTargets'

        { Invoke-TtmRecycle -Farm Dev -Role RailsAppServer -ErrorAction Stop } | Should -Throw -ErrorId 'TtmAccessDenied.AccessDenied,Rebundle.PowerShell.Commands.InvokeTtmRecycleCommand'

        Get-Ec2RequestLog $ec2 | Where-Object action -eq 'DeregisterTargets' | Should -BeNullOrEmpty
        (Get-Ec2TargetHealth $ec2 -TargetGroup dev-railsappserver)[$old.Id] | Should -Be 'healthy'
        (Get-TtmServer -Farm Dev -Role RailsAppServer -Status Running, Pending).Id | Should -Be $old.Id -Because 'the unregistered replacement is terminated'
    }
}
