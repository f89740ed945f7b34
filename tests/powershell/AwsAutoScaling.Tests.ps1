# Farm roles that are Auto Scaling groups on the loopback endpoint, through the cmdlets: a recycle of
# the web roles of Production through their groups beside the plain farm roles, and what New-TtmRole
# says on the Sandbox. Bringing a fleet in is tested through the core and the AWS backend in
# tests/Rebundle.Aws.Tests/FleetIntakeTests.cs.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'helpers/Ec2Endpoint.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
    Set-Ec2TestCredentials

    # The first error a command writes (terminating or not), as ErrorIds.Tests gets it.
    function Get-FirstError([scriptblock] $Action) {
        $ErrorActionPreference = 'Stop'
        try { & $Action | Out-Null } catch { return $_ }
        $null
    }

    # The group as before a recycle: at its desired capacity and max, nothing suspended, nobody protected, no record.
    function Assert-GroupAsBefore($Endpoint, [string] $Name, [int] $Desired, [int] $Max) {
        $group = Get-Ec2AutoScalingGroup $Endpoint -Name $Name
        $group.Desired | Should -Be $Desired
        $group.Max | Should -Be $Max
        @($group.SuspendedProcesses) | Should -BeNullOrEmpty
        @($group.Tags | Where-Object Key -eq 'ttm:recycle') | Should -BeNullOrEmpty
        @($group.Instances | Where-Object ProtectedFromScaleIn) | Should -BeNullOrEmpty
        @($group.Instances | Where-Object LifecycleState -ne 'InService') | Should -BeNullOrEmpty
        @($group.Instances).Count | Should -Be $Desired
        $group
    }
}

AfterAll {
    Stop-TestEc2Endpoint
    Restore-Ec2TestCredentials
}

Describe 'Farm roles that are Auto Scaling groups (loopback Auto Scaling)' {
    BeforeEach {
        Stop-TestEc2Endpoint
        $script:ec2 = Start-TestEc2Endpoint -AutoScalingGroups
        Connect-TestEc2Fleet $script:ec2 | Out-Null
    }

    It 'Get-TtmFarmRole shows the group, counted by its desired capacity' {
        $web = Get-TtmFarmRole -Farm Production -Alias RailsAppServer
        $web.ScalingGroup | Should -Be 'Production-RailsAppServer'
        $web.DesiredCount | Should -Be 2
        (Get-TtmFarmRole -Farm Production -Alias Sidekiq).ScalingGroup | Should -BeNullOrEmpty
    }

    It 'a recycle of Production goes through the groups beside the plain farm roles and leaves every group as before' {
        $old = @(Get-TtmServer -Farm Production)
        $before = @{}
        foreach ($name in 'Production-RailsAppServer', 'Production-NodeAppServer') { $before[$name] = Get-Ec2AutoScalingGroup $ec2 -Name $name }

        $recycled = @(Invoke-TtmRecycle -Farm Production -BatchSize 2 -Force -Timeout 0:5:0)

        $recycled.Count | Should -Be $old.Count
        foreach ($name in 'Production-RailsAppServer', 'Production-NodeAppServer') {
            $group = Assert-GroupAsBefore $ec2 -Name $name -Desired $before[$name].Desired -Max $before[$name].Max
            $states = Get-Ec2TargetHealth $ec2 -TargetGroup $name.ToLowerInvariant()
            @($states.Keys | Sort-Object) | Should -Be @($group.Instances.Id | Sort-Object)
        }
        $log = Get-Ec2RequestLog $ec2
        @($log | Where-Object { $_.action -eq 'TerminateInstanceInAutoScalingGroup' -and $_.status -eq 200 }).Count | Should -Be ($before.Values.Desired | Measure-Object -Sum).Sum
        $live = @(Get-TtmServer -Farm Production -Status Running, Pending)
        $live.Count | Should -Be $old.Count
        @($live.Id | Where-Object { $_ -in $old.Id }) | Should -BeNullOrEmpty -Because 'every server was replaced'
        $audit = @(Get-TtmAuditLog -Action HoldScalingGroup, ReleaseScalingGroup)
        @($audit | Where-Object Action -eq 'ReleaseScalingGroup').Count | Should -BeGreaterOrEqual 2
    }
}

Describe 'Bringing a fleet in on the Sandbox' {
    It 'says there is nothing to bring in, naming AWS' {
        $sandbox = New-TestSandbox
        $record = Get-FirstError { New-TtmRole -Name X -ImageId ami-1 }
        $record.FullyQualifiedErrorId | Should -BeLike 'TtmInvalidArgument*'
        $record.Exception.Message | Should -BeLike '*AWS*'
        Remove-Item $sandbox.Path -Recurse -Force -ErrorAction SilentlyContinue
    }
}
