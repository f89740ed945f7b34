# Farm roles that are Auto Scaling groups on the loopback endpoint, through the cmdlets: a recycle of
# the web roles of Production through their groups beside the plain farm roles; the whole runbook on a
# fleet whose web roles are groups, and the same run killed (kill -9) or stopped (Ctrl+C) while a group
# launches, then resumed or run again; a fleet made without Rebundle's tags brought in with New-TtmRole
# and New-TtmFarmRole and rebundled, and those cmdlets' help examples; what New-TtmRole says on the
# Sandbox. Each ends by reading the endpoint's own view (groups, target groups, instances, requests).
# Bringing a fleet in is also tested through the core and the AWS backend in tests/Rebundle.Aws.Tests/FleetIntakeTests.cs.
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

    # ---- The runbook, stops and intake on groups (the Describes from 'The whole runbook' on) ----

    # The endpoint fast: boots and images of a fraction of a second, drains of 1 s, healthy after 0.2 s x 2.
    $script:fast = @{ BootSeconds = 0.2; ImageSeconds = 0.2; DeregistrationDelaySeconds = 1; HealthCheckIntervalSeconds = 0.2; HealthyThreshold = 2 }
    $script:fightingProcesses = @('AlarmNotification', 'AZRebalance', 'ReplaceUnhealthy', 'ScheduledActions')

    function Connect-AuditedEc2Fleet($Endpoint, [string] $AuditLog) {
        Connect-TtmFleet -Aws -EndpointUrl $Endpoint.Url -Region us-east-1 -PollInterval '0:0:0.2' -AuditLogPath $AuditLog | Out-Null
    }

    # Waits (at most 90 s) until the condition holds; fails the test otherwise.
    function Wait-Until([scriptblock] $Condition, [string] $What, [int] $Seconds = 90) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out waiting until $What." }
            Start-Sleep -Milliseconds 20
        }
    }

    # EC2 holds the answer to the next CreateTags (the tagging of a group's new server, right after the
    # group launched it and it was protected from scale-in) until Resume-Ec2Answers: a stop lands there.
    function Suspend-Ec2Answers($Endpoint, [string] $Action) { Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/stall?action=$Action" | Out-Null }
    function Test-Ec2AnswerHeld($Endpoint) { (Invoke-RestMethod -Uri "$($Endpoint.Url)_ttm/stall").held }
    function Resume-Ec2Answers($Endpoint) {
        # The stopped client dropped its call: it is never acted on (abandoned), then nothing is held any more.
        Wait-Until { (Invoke-RestMethod -Uri "$($Endpoint.Url)_ttm/stall").abandoned -ge 1 } 'the stopped client drops the held call' 30
        Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/release" | Out-Null
    }

    function Test-GroupHeld($Endpoint, [string] $Name) { @((Get-Ec2AutoScalingGroup $Endpoint -Name $Name).Tags.Key) -contains 'ttm:recycle' }

    # Every group farm role with its group's sizes now: Name, Farm, Alias, Min, Max, Desired, TargetGroups.
    function Get-GroupSize($Endpoint) {
        foreach ($farmRole in Get-TtmFarmRole | Where-Object ScalingGroup) {
            $group = Get-Ec2AutoScalingGroup $Endpoint -Name $farmRole.ScalingGroup
            [pscustomobject]@{ Name = $group.Name; Farm = $farmRole.Farm; Alias = $farmRole.Alias; Min = $group.Min; Max = $group.Max; Desired = $group.Desired; TargetGroups = $farmRole.TargetGroups }
        }
    }

    # What a rebundle starts from: the servers (ids) and the groups' sizes.
    function Get-FleetBefore($Endpoint) {
        [pscustomobject]@{ ServerIds = @((Get-TtmServer).Id); Groups = @(Get-GroupSize $Endpoint) }
    }

    # Right after a stop in a group's recycle: the group carries its record (what to put back) and the
    # four fighting processes suspended, and Rebundle counts it by the record, held.
    function Assert-GroupHeld($Endpoint, $Size) {
        $group = Get-Ec2AutoScalingGroup $Endpoint -Name $Size.Name
        ($group.Tags | Where-Object Key -eq 'ttm:recycle').Value | Should -Be "desired=$($Size.Desired);max=$($Size.Max);suspended=AZRebalance,ReplaceUnhealthy,AlarmNotification,ScheduledActions"
        @($group.SuspendedProcesses | Sort-Object) | Should -Be $fightingProcesses
        $farmRole = Get-TtmFarmRole -Farm $Size.Farm -Alias $Size.Alias
        $farmRole.ScalingHeld | Should -BeTrue
        $farmRole.DesiredCount | Should -Be $Size.Desired -Because 'a held group counts as recorded, not as raised'
        $group
    }

    # A group after its recycle: as before it (Assert-GroupAsBefore), every instance on the image
    # given, none of the servers from before, and its target groups holding exactly its instances, healthy.
    function Assert-GroupRecycled($Endpoint, $Size, [string] $ImageId, [string[]] $OldIds, $Instances) {
        $group = Assert-GroupAsBefore $Endpoint -Name $Size.Name -Desired $Size.Desired -Max $Size.Max
        $group.Min | Should -Be $Size.Min
        $ids = @($group.Instances.Id | Sort-Object)
        foreach ($id in $ids) {
            ($Instances | Where-Object Id -eq $id).ImageId | Should -Be $ImageId -Because "$id of $($Size.Name) runs the new image"
            $id | Should -Not -BeIn $OldIds
        }
        foreach ($targetGroup in $Size.TargetGroups) {
            $states = Get-Ec2TargetHealth $Endpoint -TargetGroup $targetGroup
            @($states.Keys | Sort-Object) | Should -Be $ids -Because "$targetGroup serves exactly the instances of $($Size.Name)"
            @($states.Values | Sort-Object -Unique) | Should -Be 'healthy'
        }
        $farmRole = Get-TtmFarmRole -Farm $Size.Farm -Alias $Size.Alias
        $farmRole.ScalingHeld | Should -BeFalse
        $farmRole.DesiredCount | Should -Be $Size.Desired
        $group
    }

    # Every running instance is a server Rebundle lists (so of a farm role), a group's instance is in
    # service in the group of its farm role, and the servers are named as their farm roles number them.
    function Assert-EveryInstanceAccountedFor($Endpoint, $Instances) {
        $running = @($Instances | Where-Object State -in 'pending', 'running')
        $servers = @(Get-TtmServer -Status Running, Pending)
        @($running.Id | Sort-Object) | Should -Be @($servers.Id | Sort-Object) -Because 'no instance runs outside a farm role'
        foreach ($instance in $running | Where-Object { $_.Tags.ContainsKey('aws:autoscaling:groupName') }) {
            $groupName = $instance.Tags['aws:autoscaling:groupName']
            $server = $servers | Where-Object Id -eq $instance.Id
            (Get-TtmFarmRole -Farm $server.Farm -Alias $server.Alias).ScalingGroup | Should -Be $groupName -Because "$($instance.Id) is in the group of its farm role"
            ((Get-Ec2AutoScalingGroup $Endpoint -Name $groupName).Instances | Where-Object Id -eq $instance.Id).LifecycleState | Should -Be 'InService'
        }
        foreach ($farmRole in $servers | Group-Object Farm, Alias) {
            @($farmRole.Group | Where-Object Index -lt 1).Name | Should -BeNullOrEmpty -Because "every server of $($farmRole.Name) has its own index"
            @($farmRole.Group.Name | Sort-Object -Unique).Count | Should -Be $farmRole.Count -Because "the servers of $($farmRole.Name) have names of their own"
        }
    }

    # The fleet after the whole runbook: every group recycled onto its new version's image and put back
    # as before, every plain farm role at its count on new servers of its role's image, nothing else running.
    function Assert-RebundledFleet($Endpoint, $Before) {
        $instances = @(Get-Ec2TestInstance $Endpoint)
        foreach ($size in $Before.Groups) {
            $farmRole = Get-TtmFarmRole -Farm $size.Farm -Alias $size.Alias
            $image = (Get-TtmRole -Name "$($size.Alias)-1-7").ImageId
            (Get-TtmRole -Name $farmRole.Role).ImageId | Should -Be $image -Because "$($size.Farm)/$($size.Alias) runs $($size.Alias)-1-7's image"
            Assert-GroupRecycled $Endpoint $size -ImageId $image -OldIds $Before.ServerIds -Instances $instances | Out-Null
        }
        foreach ($farmRole in Get-TtmFarmRole) {
            $servers = @(Get-TtmServer -Farm $farmRole.Farm -Role $farmRole.Alias -Status Running, Pending)
            $servers.Count | Should -Be $farmRole.DesiredCount -Because "$($farmRole.Farm)/$($farmRole.Alias) is at its count"
            @($servers.Status | Sort-Object -Unique) | Should -Be 'Running'
            @($servers.ImageId | Sort-Object -Unique) | Should -Be (Get-TtmRole -Name $farmRole.Role).ImageId -Because "$($farmRole.Farm)/$($farmRole.Alias) runs role $($farmRole.Role)"
            @($servers.Id | Where-Object { $_ -in $Before.ServerIds }) | Should -BeNullOrEmpty -Because "every server of $($farmRole.Farm)/$($farmRole.Alias) was replaced"
        }
        @(Get-TtmServer -Status Running, Pending).Count | Should -Be $Before.ServerIds.Count
        Assert-EveryInstanceAccountedFor $Endpoint $instances
    }

    # The child pwsh of Aws.Tests' kill test: the whole runbook with a journal and an audit log.
    function Start-ChildAwsRebundle([string] $Url, [string] $Folder) {
        $pwsh = Get-PwshCommand
        $full = "Import-Module '$(Get-RebundleModulePath)'; " +
            "Connect-TtmFleet -Aws -EndpointUrl '$Url' -Region us-east-1 -PollInterval '0:0:0.2' -AuditLogPath '$Folder/audit.log' | Out-Null; " +
            "Invoke-TtmRebundle -SkipOsUpdate -BatchSize 2 -JournalPath '$Folder/j.jsonl' -ApproveProduction | Out-Null"
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($full))
        Start-Process -FilePath $pwsh.Exe -ArgumentList (@($pwsh.Prefix) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded)) -PassThru `
            -RedirectStandardOutput (Join-Path $Folder 'child.out') -RedirectStandardError (Join-Path $Folder 'child.err')
    }

    # A command in a runspace of its own, stopped with PowerShell.Stop() as the host does on Ctrl+C.
    function Start-InRunspace([string] $Script) {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$(Get-RebundleModulePath)'; $Script")
        [pscustomobject]@{ PowerShell = $ps; Async = $ps.BeginInvoke() }
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

Describe 'The whole runbook (steps 1-8) on a fleet whose Dev and Production web roles are Auto Scaling groups' {
    BeforeAll {
        Stop-TestEc2Endpoint
        $script:ec2 = Start-TestEc2Endpoint -AutoScalingGroups @fast
        $script:audit = Join-Path $TestDrive 'runbook-audit.log'
        Connect-AuditedEc2Fleet $ec2 $audit
        $script:before = Get-FleetBefore $ec2
        $script:run = Invoke-TtmRebundle -SkipOsUpdate -BatchSize 2 -JournalPath (Join-Path $TestDrive 'runbook.jsonl') -ApproveProduction 6>$null
        $script:requests = @(Get-Ec2RequestLog $ec2)
    }

    It 'completes, with the four groups as the web farm roles of Dev and Production' {
        $run.Status | Should -Be 'Completed'
        @($before.Groups.Name | Sort-Object) | Should -Be @('Dev-NodeAppServer', 'Dev-RailsAppServer', 'Production-NodeAppServer', 'Production-RailsAppServer')
    }

    It 'leaves every group as before, on its new version''s image, and every other farm role at its count on new servers, nothing else running' {
        Assert-RebundledFleet $ec2 $before
    }

    It 'went through the groups: launch-first, terminated through the group with its capacity lowered, never by EC2''s own terminate' {
        $groupInstances = @(Get-Ec2TestInstance $ec2 | Where-Object { $_.Tags.ContainsKey('aws:autoscaling:groupName') }).Id
        foreach ($size in $before.Groups) {
            $desired = @($requests | Where-Object { $_.action -eq 'SetDesiredCapacity' -and $_.status -eq 200 -and $_.parameters.AutoScalingGroupName -eq $size.Name } |
                ForEach-Object { [int] $_.parameters.DesiredCapacity })
            $desired.Count | Should -BeGreaterThan 0 -Because "$($size.Name) launched its replacements"
            $desired | ForEach-Object { $_ | Should -BeGreaterThan $size.Desired -Because "$($size.Name) is only ever asked for more servers than it has" }
        }
        $terminations = @($requests | Where-Object { $_.action -eq 'TerminateInstanceInAutoScalingGroup' -and $_.status -eq 200 })
        $terminations.Count | Should -Be ($before.Groups.Desired | Measure-Object -Sum).Sum
        $terminations.parameters.ShouldDecrementDesiredCapacity | Sort-Object -Unique | Should -Be 'true'
        $ec2Terminated = @($requests | Where-Object { $_.action -eq 'TerminateInstances' -and $_.status -eq 200 } |
            ForEach-Object { $_.parameters.PSObject.Properties | Where-Object Name -like 'InstanceId.*' | ForEach-Object Value })
        @($ec2Terminated | Where-Object { $_ -in $groupInstances }) | Should -BeNullOrEmpty
        @($requests | Where-Object { $_.action -eq 'RunInstances' -and $_.parameters.'LaunchTemplate.LaunchTemplateName' -in 'role/RailsAppServer', 'role/NodeAppServer', 'role/RailsAppServer-1-7', 'role/NodeAppServer-1-7' }) |
            Should -BeNullOrEmpty -Because 'the web servers are launched by their groups'
    }

    It 'audited each group held before its first launch and released after its last change' {
        $log = @(Get-TtmAuditLog -Path $audit)
        foreach ($size in $before.Groups) {
            $target = "$($size.Farm)/$($size.Alias)"
            $at = { param($actions) @(0..($log.Count - 1) | Where-Object { $log[$_].Action -in $actions -and ($log[$_].Target -eq $target -or $log[$_].Target -like "$target/*") }) }
            $holds = & $at 'HoldScalingGroup'
            $releases = & $at 'ReleaseScalingGroup'
            $changes = & $at 'LaunchServer', 'TerminateServer', 'RegisterTargets', 'DeregisterTargets'
            $holds.Count | Should -BeGreaterThan 0 -Because "$target was held for its recycle"
            $releases.Count | Should -Be $holds.Count -Because "$target was released after each recycle"
            $launches = & $at 'LaunchServer'
            $holds[0] | Should -BeLessThan $launches[0] -Because "$target is held before its first launch"
            $releases[-1] | Should -BeGreaterThan $changes[-1] -Because "$target is released after its last change"
            foreach ($i in $releases) { $log[$i].After | Should -BeLike 'restored: *' }
            foreach ($i in $changes) {
                @(0..($holds.Count - 1) | Where-Object { $holds[$_] -lt $i -and $i -lt $releases[$_] }).Count | Should -Be 1 -Because "$($log[$i].Action) $($log[$i].Target) came while $target was held"
            }
        }
    }
}

Describe 'Killed mid-recycle of a group (kill -9), then -Resume, ends the same way' {
    BeforeAll {
        Stop-TestEc2Endpoint
        $script:ec2 = Start-TestEc2Endpoint -AutoScalingGroups @fast
        $script:folder = Join-Path $TestDrive 'kill'
        New-Item -ItemType Directory $folder | Out-Null
        $script:journal = Join-Path $folder 'j.jsonl'
        Connect-AuditedEc2Fleet $ec2 (Join-Path $folder 'audit.log')
        $script:before = Get-FleetBefore $ec2
        $script:production = @($before.Groups | Where-Object Farm -eq 'Production')
    }

    AfterAll { Invoke-RestMethod -Method Post -Uri "$($ec2.Url)_ttm/release" | Out-Null }

    It 'leaves the Production groups held: their record (tag ttm:recycle) and suspended processes on them' {
        $child = Start-ChildAwsRebundle $ec2.Url $folder
        # Once Production's groups are held, EC2 holds the next CreateTags: the tagging of the first server
        # a group launched, right after it was protected from scale-in. The kill lands there.
        Wait-Until { $child.HasExited -or (Test-GroupHeld $ec2 'Production-RailsAppServer') } 'the recycle of Production holds its groups'
        Suspend-Ec2Answers $ec2 CreateTags
        Wait-Until { $child.HasExited -or (Test-Ec2AnswerHeld $ec2) } 'a group''s new server is being tagged'
        $child.HasExited | Should -BeFalse -Because 'the run is killed while it recycles a group'
        $child.Kill($true)
        $child.WaitForExit()
        Resume-Ec2Answers $ec2

        Disconnect-TtmFleet
        Connect-AuditedEc2Fleet $ec2 (Join-Path $folder 'audit.log')
        $raised = 0
        foreach ($size in $production) {
            $group = Assert-GroupHeld $ec2 $size
            if ($group.Desired -gt $size.Desired) { $raised++ }
        }
        $raised | Should -BeGreaterThan 0 -Because 'a group was asked for its replacements when the run was killed'
    }

    It '-Resume completes and leaves the fleet as the whole runbook does' {
        (Invoke-TtmRebundle -Resume $journal -ApproveProduction -WarningAction SilentlyContinue 6>$null).Status | Should -Be 'Completed'

        Assert-RebundledFleet $ec2 $before
        $releases = @(Get-TtmAuditLog -Path (Join-Path $folder 'audit.log') -Action ReleaseScalingGroup -Target 'Production/*')
        @($releases.Target | Sort-Object -Unique) | Should -Be @('Production/NodeAppServer', 'Production/RailsAppServer')
        $releases | Select-Object -Last 1 | ForEach-Object After | Should -BeLike 'restored: *'
    }
}

Describe 'Ctrl+C mid-recycle of a group, then a rerun' {
    BeforeAll {
        Stop-TestEc2Endpoint
        $script:ec2 = Start-TestEc2Endpoint -AutoScalingGroups @fast
        $script:audit = Join-Path $TestDrive 'ctrl-c-audit.log'
        Connect-AuditedEc2Fleet $ec2 $audit
        # The role takes another image, so the group's servers have something to be recycled onto.
        $script:image = (Get-TtmRole -Name TTM-Base).ImageId
        Set-TtmRoleImage -Role RailsAppServer -Image $image -Force | Out-Null
        $script:size = Get-GroupSize $ec2 | Where-Object Name -eq 'Production-RailsAppServer'
        $script:old = @((Get-TtmServer -Farm Production -Role RailsAppServer).Id | Sort-Object)
        $script:recycle = "Invoke-TtmRecycle -Farm Production -Alias RailsAppServer -BatchSize 2 -Force -Timeout 0:2:0 -HealthGrace 0:0:5"
    }

    AfterAll { Invoke-RestMethod -Method Post -Uri "$($ec2.Url)_ttm/release" | Out-Null }

    # Whether the group has put a replacement in service before the stop is a race; either way the
    # stop hands the replacements back to the group (which drains those it registered), so the group
    # is at its count at once.
    It 'Ctrl+C while the group launches stops within seconds, the group at its count with the old servers serving' {
        $run = Start-InRunspace "Connect-TtmFleet -Aws -EndpointUrl '$($ec2.Url)' -Region us-east-1 -PollInterval '0:0:0.2' -AuditLogPath '$audit' | Out-Null; $recycle"
        Wait-Until { $run.Async.IsCompleted -or (Test-GroupHeld $ec2 $size.Name) } 'the recycle holds the group'
        Suspend-Ec2Answers $ec2 CreateTags
        Wait-Until { $run.Async.IsCompleted -or (Test-Ec2AnswerHeld $ec2) } 'a new server of the group is being tagged'
        $run.Async.IsCompleted | Should -BeFalse -Because 'Ctrl+C comes while the group launches'
        (Get-Ec2AutoScalingGroup $ec2 -Name $size.Name).Desired | Should -BeGreaterThan $size.Desired

        $watch = [Diagnostics.Stopwatch]::StartNew()
        $run.PowerShell.Stop()
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
        $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        $run.PowerShell.Dispose()
        Resume-Ec2Answers $ec2

        # Invoke-TtmRecycle's help: a recycle that stops terminates the replacements it launched that are
        # not yet serving, so no farm role is left above its count.
        $group = Get-Ec2AutoScalingGroup $ec2 -Name $size.Name
        $group.Desired | Should -Be $size.Desired -Because 'the stopped recycle takes back the capacity it asked for'
        @(Get-TtmServer -Farm Production -Role RailsAppServer -Status Running, Pending).Id | Sort-Object | Should -Be $old -Because 'the replacements not yet serving are terminated'
        # The old servers serve on; a replacement the group had already put in service drains on its way out.
        $states = Get-Ec2TargetHealth $ec2 -TargetGroup production-railsappserver
        foreach ($id in $old) { $states[$id] | Should -Be 'healthy' }
        foreach ($id in @($states.Keys | Where-Object { $_ -notin $old })) { $states[$id] | Should -Be 'draining' -Because "$id is a replacement on its way out" }
    }

    It 'the rerun recycles the group onto the role''s image and puts it back as before' {
        $recycled = @(Invoke-TtmRecycle -Farm Production -Alias RailsAppServer -BatchSize 2 -Force -Timeout 0:2:0 -HealthGrace 0:0:5 -WarningAction SilentlyContinue)

        $recycled.Count | Should -Be $size.Desired
        $instances = @(Get-Ec2TestInstance $ec2)
        Assert-GroupRecycled $ec2 $size -ImageId $image -OldIds $old -Instances $instances | Out-Null
        Assert-EveryInstanceAccountedFor $ec2 $instances
        (Get-TtmAuditLog -Path $audit -Action ReleaseScalingGroup | Select-Object -Last 1).After | Should -BeLike 'restored: *'
    }
}

Describe 'A fleet made without Rebundle''s tags is brought in and rebundled' {
    BeforeAll {
        Stop-TestEc2Endpoint
        $script:ec2 = Start-TestEc2Endpoint -TargetGroups @fast
        $script:audit = Join-Path $TestDrive 'intake-audit.log'
        # Made by hand: an image and a launch template for the web servers, a target group and a group
        # tagged only app=web; two reports servers tagged only app=reports, from an image of their own.
        $script:webImage = (New-Ec2TestImage $ec2 -Name 'legacy-web-2024').id
        $script:reportsImage = (New-Ec2TestImage $ec2 -Name 'legacy-reports-2024').id
        $script:template = New-Ec2TestLaunchTemplate $ec2 -Name 'legacy-web-lt' -ImageId $webImage -InstanceType t3.medium
        New-Ec2TargetGroup $ec2 -Name 'legacy-web' -DeregistrationDelaySeconds 1 -HealthCheckIntervalSeconds 0.2 -HealthyThreshold 2 | Out-Null
        $script:group = New-Ec2AutoScalingGroup $ec2 -Name 'legacy-web-asg' -LaunchTemplate 'legacy-web-lt' -Min 1 -Max 2 -Desired 2 -TargetGroup 'legacy-web' -HealthCheckType ELB -Tag @{ app = 'web' }
        $script:reports = @(1..2 | ForEach-Object { (New-Ec2TestInstance $ec2 -ImageId $reportsImage -Tag @{ app = 'reports' }).id })
        $script:size = [pscustomobject]@{ Name = 'legacy-web-asg'; Farm = 'Legacy'; Alias = 'LegacyWeb'; Min = 1; Max = 2; Desired = 2; TargetGroups = @('legacy-web') }
        Connect-AuditedEc2Fleet $ec2 $audit
    }

    It 'New-TtmRole -WhatIf changes nothing; then makes the roles from the group''s launch template and from the servers'' image' {
        Clear-Ec2RequestLog $ec2
        New-TtmRole -Name LegacyWeb -LaunchTemplate $template.id -WhatIf
        New-TtmRole -Name LegacyReports -ImageId $reportsImage -WhatIf
        @(Get-Ec2RequestLog $ec2 | Where-Object mutating) | Should -BeNullOrEmpty
        Get-TtmRole -Name LegacyWeb -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        $web = New-TtmRole -Name LegacyWeb -LaunchTemplate $template.id
        $reportsRole = New-TtmRole -Name LegacyReports -ImageId $reportsImage

        $web.ImageId | Should -Be $webImage
        (Get-TtmRole -Name LegacyWeb).ImageId | Should -Be $webImage
        (Get-TtmRole -Name LegacyReports).ImageId | Should -Be $reportsImage
        $reportsRole.Name | Should -Be 'LegacyReports'
        $created = @(Get-Ec2RequestLog $ec2 | Where-Object { $_.action -eq 'CreateLaunchTemplate' -and $_.status -eq 200 })
        $created.parameters.LaunchTemplateName | Should -Be @('role/LegacyWeb', 'role/LegacyReports')
        $created[0].parameters.'LaunchTemplateData.InstanceType' | Should -Be 't3.medium' -Because 'the role takes the launch settings of the template'
        (Get-TtmAuditLog -Path $audit -Action NewRole).Target | Should -Be @('role/LegacyWeb', 'role/LegacyReports')
    }

    It 'New-TtmFarmRole -WhatIf changes nothing; then the group and the tagged servers become farm roles of farm Legacy' {
        Clear-Ec2RequestLog $ec2
        New-TtmFarmRole -Farm Legacy -Alias LegacyWeb -Role LegacyWeb -AutoScalingGroup legacy-web-asg -WhatIf
        @(Get-Ec2RequestLog $ec2 | Where-Object mutating) | Should -BeNullOrEmpty
        Get-TtmFarmRole -Farm Legacy -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        # Two servers carry the tag: a count of one would leave the other for the next recycle to terminate.
        $tooMany = Get-FirstError { New-TtmFarmRole -Farm Legacy -Alias LegacyReports -Role LegacyReports -Tag @{ app = 'reports' } -Count 1 -Force }
        $tooMany.FullyQualifiedErrorId | Should -Be 'TtmInvalidArgument,Rebundle.PowerShell.Commands.NewTtmFarmRoleCommand'
        $tooMany.CategoryInfo.Category | Should -Be 'InvalidArgument'
        foreach ($id in $reports) { $tooMany.Exception.Message | Should -BeLike "*$id*" }
        @(Get-Ec2RequestLog $ec2 | Where-Object mutating) | Should -BeNullOrEmpty

        New-TtmFarmRole -Farm Legacy -Alias LegacyWeb -Role LegacyWeb -AutoScalingGroup legacy-web-asg | Out-Null
        New-TtmFarmRole -Farm Legacy -Alias LegacyReports -Role LegacyReports -Tag @{ app = 'reports' } -Count 2 | Out-Null

        $web = Get-TtmFarmRole -Farm Legacy -Alias LegacyWeb
        ($web.Role, $web.DesiredCount, $web.ScalingGroup) | Should -Be @('LegacyWeb', 2, 'legacy-web-asg')
        $web.TargetGroups | Should -Be @('legacy-web')
        $plain = Get-TtmFarmRole -Farm Legacy -Alias LegacyReports
        ($plain.Role, $plain.DesiredCount) | Should -Be @('LegacyReports', 2)
        $plain.ScalingGroup | Should -BeNullOrEmpty
        $plain.TargetGroups | Should -BeNullOrEmpty
        $servers = @(Get-TtmServer -Farm Legacy)
        $servers.Name | Sort-Object | Should -Be @('LegacyReports.1', 'LegacyReports.2', 'LegacyWeb.1', 'LegacyWeb.2')
        @($servers | Where-Object Alias -eq 'LegacyReports').Id | Sort-Object | Should -Be @($reports | Sort-Object)
        @($servers | Where-Object Alias -eq 'LegacyWeb').Id | Sort-Object | Should -Be @($group.instances | Sort-Object)
        $asg = Get-Ec2AutoScalingGroup $ec2 -Name legacy-web-asg
        ($asg.LaunchTemplateName, $asg.Version) | Should -Be @('role/LegacyWeb', '$Default') -Because 'the group launches from the role from now on'
        foreach ($key in 'ttm:farm', 'ttm:alias', 'ttm:role') {
            ($asg.Tags | Where-Object Key -eq $key).PropagateAtLaunch | Should -BeTrue -Because "what the group launches carries $key"
        }
        ($asg.Desired, $asg.Max) | Should -Be @(2, 2) -Because 'bringing the group in does not resize it'
        (Get-TtmAuditLog -Path $audit -Action NewFarmRole).Target | Should -Be @('Legacy/LegacyWeb', 'Legacy/LegacyReports')
    }

    It 'the same New-TtmFarmRole again is TtmFarmRoleAlreadyExists, a group that is not there TtmScalingGroupNotFound, and nothing changes' {
        Clear-Ec2RequestLog $ec2
        $again = Get-FirstError { New-TtmFarmRole -Farm Legacy -Alias LegacyReports -Role LegacyReports -Tag @{ app = 'reports' } -Count 2 }
        $again.FullyQualifiedErrorId | Should -Be 'TtmFarmRoleAlreadyExists,Rebundle.PowerShell.Commands.NewTtmFarmRoleCommand'
        $again.Exception.Message | Should -BeLike '*Legacy/LegacyReports exists already*'
        $missing = Get-FirstError { New-TtmFarmRole -Farm Legacy -Alias Billing -Role LegacyWeb -AutoScalingGroup no-such-group }
        $missing.FullyQualifiedErrorId | Should -Be 'TtmScalingGroupNotFound,Rebundle.PowerShell.Commands.NewTtmFarmRoleCommand'
        $missing.Exception.Message | Should -BeLike "*'no-such-group'*"
        @(Get-Ec2RequestLog $ec2 | Where-Object mutating) | Should -BeNullOrEmpty
        (Get-TtmFarmRole -Farm Legacy).Alias | Should -Be @('LegacyReports', 'LegacyWeb')
    }

    It 'is rebundled: a snapshot of each farm role, the new versions swapped in, recycled through the group and beside it' {
        (Get-TtmNextRoleVersion -Role LegacyWeb).NextRoleName | Should -Be 'LegacyWeb-1-0'
        $old = @(Get-TtmServer -Farm Legacy)
        $roles = @($old | Group-Object Alias | ForEach-Object { $_.Group[0] } | New-TtmRoleSnapshot -Timeout 0:1:0)
        $roles.Name | Sort-Object | Should -Be @('LegacyReports-1-0', 'LegacyWeb-1-0')
        Get-TtmRole -Latest -Name LegacyWeb, LegacyReports | Set-TtmFarmRole -Farm Legacy
        (Get-TtmFarmRole -Farm Legacy).Role | Should -Be @('LegacyReports-1-0', 'LegacyWeb-1-0')

        $recycled = @(Invoke-TtmRecycle -Farm Legacy -BatchSize 2 -Timeout 0:2:0 -HealthGrace 0:0:5)

        $recycled.OldId | Sort-Object | Should -Be @($old.Id | Sort-Object)
        $instances = @(Get-Ec2TestInstance $ec2)
        $webImage = (Get-TtmRole -Name LegacyWeb-1-0).ImageId
        Assert-GroupRecycled $ec2 $size -ImageId $webImage -OldIds $old.Id -Instances $instances | Out-Null
        (Get-Ec2AutoScalingGroup $ec2 -Name legacy-web-asg).LaunchTemplateName | Should -Be 'role/LegacyWeb-1-0'
        $newReports = @(Get-TtmServer -Farm Legacy -Role LegacyReports -Status Running, Pending)
        $newReports.Count | Should -Be 2
        @($newReports.Id | Where-Object { $_ -in $reports }) | Should -BeNullOrEmpty -Because 'the two plain servers were replaced'
        @($newReports.ImageId | Sort-Object -Unique) | Should -Be (Get-TtmRole -Name LegacyReports-1-0).ImageId
        @($instances | Where-Object { $_.Id -in $reports }).State | Sort-Object -Unique | Should -BeIn 'shutting-down', 'terminated'
        @(Get-TtmServer -Farm Legacy -Status Running, Pending).ImageId | Sort-Object -Unique | Should -Be @((Get-TtmRole -Name LegacyReports-1-0, LegacyWeb-1-0).ImageId | Sort-Object)
        Assert-EveryInstanceAccountedFor $ec2 $instances
    }
}

Describe 'The examples of New-TtmRole and New-TtmFarmRole on the EC2 endpoint' {
    BeforeAll {
        Import-Module (Join-Path (Get-RepoRoot) 'build/HelpMarkdown.psm1') -Force
        # They are no-run for Help.Tests (the Sandbox has no fleet to bring in); here they run on an
        # empty region holding what they name, their made-up image id swapped for a real one.
        $script:examples = @{}
        foreach ($name in 'New-TtmRole', 'New-TtmFarmRole') {
            $examples[$name] = @((Read-CmdletHelpMarkdown (Join-Path (Get-RepoRoot) "docs/help/$name.md")).Examples)
        }

        # An empty region with web-production (a group on launch template web-production-lt, behind
        # a target group) and two instances tagged app=sidekiq, as the examples suppose.
        function New-ExampleRegion {
            Stop-TestEc2Endpoint
            $endpoint = Start-TestEc2Endpoint -NoSeed @fast
            $web = (New-Ec2TestImage $endpoint -Name 'web-2024').id
            $sidekiq = (New-Ec2TestImage $endpoint -Name 'sidekiq-2024').id
            New-Ec2TestLaunchTemplate $endpoint -Name 'web-production-lt' -ImageId $web | Out-Null
            New-Ec2TargetGroup $endpoint -Name 'web-production-tg' | Out-Null
            $group = New-Ec2AutoScalingGroup $endpoint -Name 'web-production' -LaunchTemplate 'web-production-lt' -Min 1 -Max 4 -Desired 2 -TargetGroup 'web-production-tg' -HealthCheckType ELB
            $servers = @(1..2 | ForEach-Object { (New-Ec2TestInstance $endpoint -ImageId $sidekiq -Tag @{ app = 'sidekiq' }).id })
            Connect-TestEc2Fleet $endpoint | Out-Null
            [pscustomobject]@{ Endpoint = $endpoint; WebImage = $web; SidekiqImage = $sidekiq; Group = $group; Sidekiq = $servers }
        }

        function Invoke-Example($Example, [string] $ImageId) {
            $ErrorActionPreference = 'Stop'
            . ([scriptblock]::Create($Example.Code.Replace('ami-0abc1234def567890', $ImageId))) 6>$null | Out-Null
        }
    }

    It 'name only commands and parameters that exist' {
        foreach ($example in $examples.Values | ForEach-Object { $_ }) {
            $ast = [Management.Automation.Language.Parser]::ParseInput($example.Code, [ref] $null, [ref] $null)
            foreach ($command in $ast.FindAll({ $args[0] -is [Management.Automation.Language.CommandAst] }, $true)) {
                $info = Get-Command $command.GetCommandName() -ErrorAction SilentlyContinue
                $info | Should -Not -BeNullOrEmpty -Because "$($example.Title) runs $($command.GetCommandName())"
                foreach ($parameter in $command.CommandElements | Where-Object { $_ -is [Management.Automation.Language.CommandParameterAst] }) {
                    $known = @($info.Parameters.Values | Where-Object { $_.Name -eq $parameter.ParameterName -or $_.Aliases -contains $parameter.ParameterName })
                    $known | Should -Not -BeNullOrEmpty -Because "$($example.Title): $($info.Name) has -$($parameter.ParameterName)"
                }
            }
        }
    }

    It 'New-TtmRole''s examples make a role from the group''s launch template and one from an image' {
        $region = New-ExampleRegion
        Clear-Ec2RequestLog $region.Endpoint

        Invoke-Example $examples['New-TtmRole'][0] $region.SidekiqImage
        Invoke-Example $examples['New-TtmRole'][1] $region.SidekiqImage

        (Get-TtmRole -Name RailsAppServer).ImageId | Should -Be $region.WebImage
        (Get-TtmRole -Name Sidekiq).ImageId | Should -Be $region.SidekiqImage
        $made = @(Get-Ec2RequestLog $region.Endpoint | Where-Object { $_.action -eq 'CreateLaunchTemplate' -and $_.status -eq 200 })
        $made.parameters.LaunchTemplateName | Should -Be @('role/RailsAppServer', 'role/Sidekiq') -Because '-WhatIf made nothing, each real run one role'
        $made[1].parameters.'LaunchTemplateData.InstanceType' | Should -Be 'm5.large'
    }

    It 'New-TtmFarmRole''s examples 1 and 2 bring the group and the two tagged instances in (example 3 needs the runbook''s staging farm)' {
        $region = New-ExampleRegion

        Invoke-Example $examples['New-TtmFarmRole'][0] $region.SidekiqImage
        Invoke-Example $examples['New-TtmFarmRole'][1] $region.SidekiqImage

        $web = Get-TtmFarmRole -Farm Production -Alias RailsAppServer
        ($web.ScalingGroup, $web.DesiredCount, $web.Role) | Should -Be @('web-production', 2, 'RailsAppServer')
        $web.TargetGroups | Should -Be @('web-production-tg')
        (Get-Ec2AutoScalingGroup $region.Endpoint -Name web-production).LaunchTemplateName | Should -Be 'role/RailsAppServer'
        $sidekiq = Get-TtmFarmRole -Farm Production -Alias Sidekiq
        ($sidekiq.DesiredCount, $sidekiq.Role) | Should -Be @(2, 'Sidekiq')
        (Get-TtmServer -Farm Production -Role RailsAppServer).Id | Sort-Object | Should -Be @($region.Group.instances | Sort-Object)
        $tagged = @(Get-TtmServer -Farm Production -Role Sidekiq)
        $tagged.Id | Sort-Object | Should -Be @($region.Sidekiq | Sort-Object)
        $tagged.Name | Sort-Object | Should -Be @('Sidekiq.1', 'Sidekiq.2')
    }
}
