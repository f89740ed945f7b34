# Remote work without port 22 (issue 26): the same scenario over AWS Systems Manager and over SSH on
# the loopback EC2 endpoint. Start-TestEc2Endpoint -Ssm makes every running instance a managed
# instance whose agent really runs AWS-RunShellScript with /bin/sh (the SSH tests' fakes first on
# PATH, its own state folder; instances the run launches register once they run, as an image with
# the agent does). Over SSM no key exists anywhere (HOME is an empty folder, no -KeyFile), so
# Rebundle chooses SSM by itself; over SSH every server is the loopback sshd (-Address 127.0.0.1
# -Port, as Ssh.Tests does: the endpoint's addresses are fake) with -Transport Ssh while the agents
# are online, so nothing but the choice of transport differs.
#
# Each instance's commands run in its folder's work/, so -ChefCachePath ../state/chef is each
# instance's own fake Chef cache; the sshd's is $sshd.ChefCache (one for every server).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'helpers/Ec2Endpoint.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
    Set-Ec2TestCredentials

    # No SSH key anywhere: the farm-key convention looks in $HOME/.ssh (KeyFileResolver), here empty.
    $script:savedHome = $env:HOME
    $script:emptyHome = Join-Path $TestDrive 'home'
    New-Item -ItemType Directory -Path (Join-Path $emptyHome '.ssh') | Out-Null
    $env:HOME = $emptyHome

    $script:haveSshd = Test-Path /usr/sbin/sshd
    if ($haveSshd) {
        . (Join-Path $PSScriptRoot 'helpers/SshTestServer.ps1')
        $script:sshd = Start-TestSshd
    }

    # The endpoint fast, as the other AWS files have it; an SSM reboot keeps the agent away 0.5 s.
    $script:fast = @{ BootSeconds = 0.2; ImageSeconds = 0.2; RebootSeconds = 0.2; SsmRebootSeconds = 0.5; SsmNotYetVisibleSeconds = 0.2 }

    # A fresh endpoint (agents online) and a session on it; the remote parameters of the transport.
    function Start-Scenario([string] $Transport) {
        Stop-TestEc2Endpoint
        $script:ec2 = Start-TestEc2Endpoint -Ssm @fast
        Connect-TestEc2Fleet $ec2 | Out-Null
        if ($Transport -eq 'Ssm') { return @{} }
        Reset-TestSshdState $sshd
        @{ Transport = 'Ssh'; Address = '127.0.0.1'; Port = $sshd.Port; User = $sshd.User; KeyFile = $sshd.KeyFile; KnownHostsFile = $sshd.KnownHostsFile }
    }

    function Get-ChefCachePath([string] $Transport) { if ($Transport -eq 'Ssm') { '../state/chef' } else { $sshd.ChefCache } }

    # The state folder the fakes of this server use: its managed instance's, or the sshd's.
    function Get-ServerState([string] $Transport, $Server) {
        if ($Transport -eq 'Ssh') { return $sshd.State }
        (Get-Ec2ManagedInstance $ec2 | Where-Object instanceId -eq $Server.Id).stateDirectory
    }

    function Assert-NoKeyAnywhere {
        foreach ($server in Get-TtmServer) {
            Join-Path $emptyHome ".ssh/FARM-$($server.FarmId).$($server.Region).private.pem" | Should -Not -Exist
        }
        @(Get-ChildItem (Join-Path $emptyHome '.ssh') -Force) | Should -BeNullOrEmpty
    }
}

AfterAll {
    Disconnect-TtmFleet -ErrorAction SilentlyContinue | Out-Null
    Stop-TestEc2Endpoint
    if ($haveSshd) { Stop-TestSshd $sshd }
    $env:HOME = $savedHome
    Restore-Ec2TestCredentials
}

Describe 'Invoke-TtmRebundle over <Transport> on the EC2 endpoint' -ForEach @(@{ Transport = 'Ssm' }, @{ Transport = 'Ssh' }) {
    BeforeEach {
        if ($Transport -eq 'Ssh' -and -not $haveSshd) { return }
        $script:remote = Start-Scenario $Transport
    }

    AfterEach {
        Disconnect-TtmFleet -ErrorAction SilentlyContinue | Out-Null
        Stop-TestEc2Endpoint
    }

    It 'patches and reboots the base server, checks staging and Dev, and stops at the gate, over <Transport>' {
        if ($Transport -eq 'Ssh' -and -not $haveSshd) { Set-ItResult -Skipped -Because 'needs sshd (openssh-server)'; return }
        if ($Transport -eq 'Ssm') { Assert-NoKeyAnywhere }
        $base = Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base
        $bootState = Get-ServerState $Transport $base
        $journal = Join-Path $TestDrive "rebundle-$Transport.jsonl"

        $result = Invoke-TtmRebundle @remote -Check Chef -ChefCachePath (Get-ChefCachePath $Transport) -BatchSize 6 -JournalPath $journal -Verbose 4>&1 6>$null |
            Tee-Object -Variable output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $verbose = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)

        $result.Status | Should -Be 'WaitingForApproval'
        $result.StepsDone | Should -Contain 'os-update'
        $result.StepsDone | Should -Contain 'verify-staging'
        $result.StepsDone | Should -Contain 'verify-test'
        Get-Content (Join-Path $bootState 'boot-time') | Should -Not -Be '2026-01-01 00:00:00' -Because 'the base server was rebooted'
        $verbose | Should -Contain 'TTM-Base.1: 0 upgraded, 0 installed, rebooted'

        $invocations = @(Get-Ec2SsmInvocation $ec2)
        if ($Transport -eq 'Ssm') {
            # Through SSM's exit 194: the agent rebooted the server and ran the script again.
            (Get-Ec2ManagedInstance $ec2 | Where-Object instanceId -eq $base.Id).reboots | Should -Be 1
            $onBase = @($invocations | Where-Object instanceId -eq $base.Id)
            @($onBase | Where-Object { $_.commands[0] -match 'apt-get' }).Count | Should -BeGreaterOrEqual 2
            @($onBase | Where-Object runs -eq 2).commands | Should -Match 'exit 194'
            $invocations.documentName | Sort-Object -Unique | Should -Be 'AWS-RunShellScript'
            $invocations.status | Sort-Object -Unique | Should -Be 'Success'
            # The Chef check ran on every staging and Dev server the run checked: the replacements it launched.
            $checked = @($invocations | Where-Object { $_.commands[0] -like "cache='../state/chef'*" } | ForEach-Object instanceId | Sort-Object -Unique)
            $verified = Get-TtmServer -Farm Rebundle-Staging, Dev | Where-Object { $_.Farm -eq 'Rebundle-Staging' -and $_.Alias -ne 'TTM-Base' -or $_.Role -like '*-1-7' }
            $checked | Should -Be @($verified.Id | Sort-Object)
            $verbose | Should -Contain 'TTM-Base.1 of farm Rebundle-Staging: over Ssm (no SSH key found and its SSM agent is online).'
            $verbose -like '*over Ssh*' | Should -BeNullOrEmpty
        }
        else {
            $invocations | Should -BeNullOrEmpty -Because '-Transport Ssh sends nothing over SSM, although every agent is online'
            Join-Path $sshd.State 'reboot.log' | Should -Exist
            $verbose | Should -Contain 'TTM-Base.1 of farm Rebundle-Staging: over Ssh (-Transport Ssh).'
            $verbose -like '*over Ssm*' | Should -BeNullOrEmpty
        }
    }

    It 'stops before any snapshot with TtmCheckFailed when a staging Sidekiq server''s Chef run failed, over <Transport>' {
        if ($Transport -eq 'Ssh' -and -not $haveSshd) { Set-ItResult -Skipped -Because 'needs sshd (openssh-server)'; return }
        $failure = '{ "exception": "Chef::Exceptions::Exec: npm failed" }'
        # The staging Sidekiq the run launches comes up with a failed Chef run; over SSH every server is the one sshd.
        if ($Transport -eq 'Ssm') { Add-Ec2SsmLaunchFile $ec2 -Farm Rebundle-Staging -Alias Sidekiq -Path chef/failed-run-data.json -Content $failure }
        else { $failure | Set-Content (Join-Path $sshd.ChefCache 'failed-run-data.json') }
        $rolesBefore = (Get-TtmRole -IncludeVersions).Name
        $journal = Join-Path $TestDrive "failed-chef-$Transport.jsonl"
        $record = $null

        try { Invoke-TtmRebundle @remote -SkipOsUpdate -Check Chef -ChefCachePath (Get-ChefCachePath $Transport) -BatchSize 6 -JournalPath $journal -ErrorAction Stop 6>$null } catch { $record = $_ }

        $record.FullyQualifiedErrorId | Should -BeLike 'TtmCheckFailed,*'
        $record.Exception.Message | Should -BeLike '*Sidekiq.2: Chef: last run failed*npm failed*'
        $record.Exception.Message | Should -Match '-Resume'
        (Get-TtmRole -IncludeVersions).Name | Should -Be $rolesBefore
        # Step 1's base image comes before the checks (as the runbook has it); no role's snapshot was made (DryRun preflights aside).
        @(Get-Ec2RequestLog $ec2 | Where-Object { $_.action -eq 'CreateImage' -and $_.mutating } | ForEach-Object { $_.parameters.Name } | Where-Object { $_ -notlike 'TTM-Base-*' }) |
            Should -BeNullOrEmpty -Because 'no role was snapshotted'
        if ($Transport -eq 'Ssm') {
            $record.Exception.Message | Should -Not -BeLike '*RailsAppServer.2:*' -Because 'only the Sidekiq server failed its Chef run'
            (Get-Ec2SsmInvocation $ec2).status | Sort-Object -Unique | Should -Be 'Success' -Because 'the check ran and read the failure report'
        }
    }
}

Describe 'Invoke-TtmCommand over SSM' {
    BeforeAll {
        $script:remote = Start-Scenario 'Ssm'
    }

    AfterAll {
        Disconnect-TtmFleet -ErrorAction SilentlyContinue | Out-Null
        Stop-TestEc2Endpoint
    }

    It 'an offline agent gives TtmServerUnreachable naming the server and what to do, nothing is sent to it, and the other servers still run' {
        $servers = Get-TtmServer -Farm Dev -Role Sidekiq, Reports
        $offline = $servers | Where-Object Alias -eq 'Sidekiq'
        Set-Ec2AgentStatus $ec2 -InstanceId $offline.Id -Status ConnectionLost
        $marker = Join-Path $TestDrive 'offline-ran'

        $results = @($servers | Invoke-TtmCommand -Transport Ssm -Command "echo ran >> '$marker'" -ErrorAction SilentlyContinue -ErrorVariable failures)

        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'TtmServerUnreachable,*'
        $failures[0].Exception.Message | Should -BeLike "*Sidekiq.1*$($offline.Id)*ConnectionLost*"
        $failures[0].Exception.Message | Should -BeLike '*Start the agent (systemctl start amazon-ssm-agent), or use -Transport Ssh*'
        $results.Server | Should -Be 'Reports.1'
        $results.Transport | Should -Be 'Ssm'
        @(Get-Content $marker) | Should -Be @('ran') -Because 'only the online server ran it'
        @(Get-Ec2SsmInvocation $ec2 -InstanceId $offline.Id) | Should -BeNullOrEmpty
    }
}

Describe 'Invoke-TtmRebundle over SSM checks its SSM permissions first' {
    BeforeAll { $script:remote = Start-Scenario Ssm }

    AfterAll {
        Disconnect-TtmFleet -ErrorAction SilentlyContinue | Out-Null
        Stop-TestEc2Endpoint
    }

    It 'a policy without ssm:CancelCommand is TtmAccessDenied naming it, before any command is sent or anything changes' {
        Set-Ec2SsmFault $ec2 -Deny 'CancelCommand'
        try {
            Clear-Ec2RequestLog $ec2
            $journal = Join-Path $TestDrive 'rebundle-denied.jsonl'

            $denied = $null
            try { Invoke-TtmRebundle -Check Chef -ChefCachePath (Get-ChefCachePath Ssm) -JournalPath $journal -ErrorAction Stop 6>$null | Out-Null } catch { $denied = $_ }

            $denied.FullyQualifiedErrorId | Should -BeLike 'TtmAccessDenied,*'
            $denied.CategoryInfo.Category | Should -Be 'PermissionDenied'
            $denied.Exception.Message | Should -BeLike '*ssm:CancelCommand*'
            @(Get-Ec2SsmInvocation $ec2) | Should -BeNullOrEmpty -Because 'no command runs before the preflight passed'
            # The one change asked, CancelCommand on a command id that does not exist, was refused.
            @(Get-Ec2RequestLog $ec2 | Where-Object { $_.mutating -and $_.status -eq 200 }) | Should -BeNullOrEmpty
            $journal | Should -Not -Exist
        }
        finally { Set-Ec2SsmFault $ec2 -Deny '' }
    }
}

Describe 'Shell metacharacters reach the server as data over <Transport>' -ForEach @(@{ Transport = 'Ssm' }, @{ Transport = 'Ssh' }) {
    BeforeAll {
        if ($Transport -eq 'Ssh' -and -not $haveSshd) { return }
        $script:remote = Start-Scenario $Transport
        # Every shell trick in one text: quotes, ;, $(…), backticks, a newline; each would create its own marker file if run.
        $script:markers = 1..5 | ForEach-Object { Join-Path $TestDrive "$Transport-injected-$_" }
        $script:evil = "x'; touch $($markers[0]); echo '`$(touch $($markers[1]))`"`$(touch $($markers[2]))`" ``touch $($markers[3])``" + "`ntouch $($markers[4]) #"
    }

    AfterAll {
        Disconnect-TtmFleet -ErrorAction SilentlyContinue | Out-Null
        Stop-TestEc2Endpoint
    }

    It 'Test-TtmServer -ChefCachePath: a folder whose name is made of them is read as that folder, and nothing in it runs' {
        if ($Transport -eq 'Ssh' -and -not $haveSshd) { Set-ItResult -Skipped -Because 'needs sshd (openssh-server)'; return }
        $cache = Join-Path $TestDrive "$Transport-chef-$evil"
        New-Item -ItemType Directory -Path (Join-Path $cache 'cookbooks') -Force | Out-Null
        $server = Get-TtmServer -Farm Dev -Role Sidekiq

        $passed = $server | Test-TtmServer @remote -Check Chef -ChefCachePath $cache -InformationVariable checks -ErrorVariable failures

        $failures | Should -BeNullOrEmpty
        $passed.Name | Should -Be 'Sidekiq.1' -Because 'the check found the cookbooks in the folder of exactly that name'
        $checks.MessageData.Detail | Should -BeLike 'last run succeeded*'
        foreach ($marker in $markers) { $marker | Should -Not -Exist }

        '{ "exception": "Chef::Exceptions::Exec: npm failed" }' | Set-Content -LiteralPath (Join-Path $cache 'failed-run-data.json')
        $server | Test-TtmServer @remote -Check Chef -ChefCachePath $cache -ErrorAction SilentlyContinue -ErrorVariable failures | Should -BeNullOrEmpty
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'TtmCheckFailed,*'
        $failures[0].Exception.Message | Should -BeLike '*npm failed*'
        foreach ($marker in $markers) { $marker | Should -Not -Exist }
    }

    It 'Invoke-TtmCommand runs the command exactly as typed: its quotes and newlines arrive whole' {
        if ($Transport -eq 'Ssh' -and -not $haveSshd) { Set-ItResult -Skipped -Because 'needs sshd (openssh-server)'; return }
        # The operator quotes the text; the transport must not add or take away a level of quoting.
        $quoted = "'" + $evil.Replace("'", "'\''") + "'"
        $result = Get-TtmServer -Farm Dev -Role Sidekiq | Invoke-TtmCommand @remote -Command "printf '%s|' $quoted`necho ""second line"""

        $result.ExitCode | Should -Be 0
        $result.Transport | Should -Be $Transport
        $result.StdOut | Should -Be "$evil|second line`n"
        foreach ($marker in $markers) { $marker | Should -Not -Exist }
    }

    It 'Update-TtmServerOs -Package and Test-TtmServer -Service refuse such names before anything is sent' {
        if ($Transport -eq 'Ssh' -and -not $haveSshd) { Set-ItResult -Skipped -Because 'needs sshd (openssh-server)'; return }
        $server = Get-TtmServer -Farm Dev -Role Sidekiq
        $before = @(Get-Ec2SsmInvocation $ec2).Count

        { $server | Update-TtmServerOs @remote -Package "nginx;touch $($markers[0])" -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'TtmInvalidArgument,*'
        { $server | Test-TtmServer @remote -Check Service -Service "nginx`$(touch $($markers[1]))" -ErrorAction Stop } | Should -Throw -ErrorId 'TtmInvalidArgument,*'

        @(Get-Ec2SsmInvocation $ec2).Count | Should -Be $before
        if ($Transport -eq 'Ssh') { Join-Path $sshd.State 'apt.log' | Should -Not -Exist }
        foreach ($marker in $markers) { $marker | Should -Not -Exist }
    }
}
