# The error ids scripts match on: every TtmErrorCode has a decided ErrorCategory (a table, so a new
# code without a decision fails here), and every code a cmdlet can reach without a real SSH
# server comes out of that cmdlet as ErrorId "Ttm<Code>" with that category (issue 12).
# The codes that need a real sshd (host key, command, timeout, check) are reached on the loopback
# sshd of SshTestServer.ps1, with a message that says what to do.

BeforeDiscovery {
    # The decided category of each code; ErrorMapper.CategoryOf must agree, and so must every cmdlet below.
    $script:categories = [ordered]@{
        NotConnected = 'InvalidOperation'; FarmNotFound = 'ObjectNotFound'; FarmRoleNotFound = 'ObjectNotFound'
        RoleNotFound = 'ObjectNotFound'; ServerNotFound = 'ObjectNotFound'; ImageNotFound = 'ObjectNotFound'
        VersionMalformed = 'InvalidArgument'; RoleNameMalformed = 'InvalidArgument'; RoleAlreadyExists = 'ResourceExists'
        ServerNotRunning = 'InvalidOperation'; ImageFailed = 'InvalidResult'; ImageTimeout = 'OperationTimeout'
        ReplacementFailed = 'InvalidResult'; ReplacementTimeout = 'OperationTimeout'; EmptyInput = 'InvalidArgument'
        DuplicateInput = 'ResourceExists'; ConfigInvalid = 'InvalidData'; StateFileLocked = 'ResourceBusy'
        StateFileCorrupt = 'ReadError'; ConnectionFailed = 'ConnectionError'; AccessDenied = 'PermissionDenied'
        BackendError = 'InvalidResult'; InvalidArgument = 'InvalidArgument'; SshKeyNotFound = 'ObjectNotFound'
        SshHostKeyRejected = 'SecurityError'; SshConnectionFailed = 'ConnectionError'; SshCommandFailed = 'InvalidResult'
        SshTimeout = 'OperationTimeout'; CheckFailed = 'InvalidResult'; ApprovalRequired = 'PermissionDenied'
        FarmBusy = 'ResourceBusy'; AuditFailed = 'WriteError'; RoleConflict = 'ResourceExists'; JournalCorrupt = 'InvalidData'
        Throttled = 'LimitsExceeded'
        ManagedByAutoScaling = 'InvalidOperation'
        TargetGroupNotFound = 'ObjectNotFound'; InvalidTarget = 'InvalidResult'; ReplacementUnhealthy = 'InvalidResult'
        ScalingGroupNotFound = 'ObjectNotFound'; FarmRoleAlreadyExists = 'ResourceExists'; ServerUnreachable = 'ConnectionError'
    }
    $script:table = foreach ($code in $categories.Keys) { @{ Code = $code; Category = $categories[$code] } }

    # Each case leaves its error as the first error of its script block, on a fresh Sandbox ($sandbox).
    $script:reached = @(
        @{ Code = 'NotConnected'; Action = { Disconnect-TtmFleet; Get-TtmFarm } }
        @{ Code = 'FarmNotFound'; Action = { Get-TtmFarmRole -Farm Deb } }
        @{ Code = 'FarmRoleNotFound'; Action = { Invoke-TtmRecycle -Farm Dev -Alias Sidekik } }
        @{ Code = 'RoleNotFound'; Action = { Get-TtmRole -Name Sidekiq-9-9 } }
        @{ Code = 'ServerNotFound'; Action = {
                $old = Get-TtmServer -Farm Dev -Role Reports
                Invoke-TtmRecycle -Farm Dev -Role Reports -Timeout 0:1:0 | Out-Null
                $old | Invoke-TtmRecycle -Timeout 0:1:0 } }
        @{ Code = 'ServerNotRunning'; Action = {
                $old = Get-TtmServer -Farm Dev -Role Reports
                Invoke-TtmRecycle -Farm Dev -Role Reports -Timeout 0:1:0 | Out-Null
                $old | New-TtmRoleSnapshot -Timeout 0:1:0 } }
        @{ Code = 'ImageNotFound'; Action = { Set-TtmRoleImage -Role Reports -Image ami-00000000000000dead -Force } }
        @{ Code = 'VersionMalformed'; Action = { New-TtmRoleSnapshot -Farm Dev -Role Reports -Version 'one-two' } }
        @{ Code = 'RoleNameMalformed'; Action = { Get-TtmNextRoleVersion -Role '-1-6' } }
        @{ Code = 'RoleAlreadyExists'; Action = { New-TtmRoleSnapshot -Farm Dev -Role Reports -Version 1-6 } }
        @{ Code = 'ImageFailed'; Action = { Set-TtmSandbox -FailImage 'Reports-1-7'; New-TtmRoleSnapshot -Farm Dev -Role Reports -Timeout 0:1:0 } }
        @{ Code = 'ImageTimeout'; Action = { Set-TtmSandbox -ImageDelay 1:0:0; New-TtmRoleSnapshot -Farm Dev -Role Reports -Timeout 0:0:1 } }
        @{ Code = 'ReplacementFailed'; Action = { Set-TtmSandbox -FailBoot 'Dev/Reports'; Invoke-TtmRecycle -Farm Dev -Role Reports -Timeout 0:1:0 } }
        @{ Code = 'ReplacementTimeout'; Action = { Set-TtmSandbox -NeverBoot 'Dev/Reports'; Invoke-TtmRecycle -Farm Dev -Role Reports -Timeout 0:0:1 } }
        @{ Code = 'ReplacementUnhealthy'; Action = { Set-TtmSandbox -FailHealth 'Dev/RailsAppServer'; Invoke-TtmRecycle -Farm Dev -Role RailsAppServer -HealthGrace 0:0:0 -Timeout 0:1:0 } }
        @{ Code = 'TargetGroupNotFound'; Action = {
                # The farm role's list comes first in the file: only it names a target group that is not there.
                Set-Content $sandbox.StateFile ([regex]::new('"dev-railsappserver"').Replace((Get-Content -Raw $sandbox.StateFile), '"dev-rails-typo"', 1))
                Invoke-TtmRecycle -Farm Dev -Role RailsAppServer -Timeout 0:1:0 } }
        @{ Code = 'EmptyInput'; Action = { @() | New-TtmRoleSnapshot } }
        @{ Code = 'DuplicateInput'; Action = { $server = Get-TtmServer -Farm Dev -Role Reports; $server, $server | New-TtmRoleSnapshot -Timeout 0:1:0 } }
        @{ Code = 'ConfigInvalid'; Action = {
                Set-Content (Join-Path $sandbox.Path 'config.json') '{ "procfile": 7 }'
                Connect-TtmFleet -Sandbox -Path $sandbox.Path -ConfigurationPath (Join-Path $sandbox.Path 'config.json') } }
        @{ Code = 'StateFileCorrupt'; Action = { Set-Content $sandbox.StateFile '{ "servers": null }'; Get-TtmServer -Farm Dev } }
        @{ Code = 'InvalidArgument'; Action = { Remove-TtmRoleVersion -KeepLatest 1 -KeepUndoFor (New-TimeSpan -Hours -1) } }
        @{ Code = 'FarmBusy'; Action = {
                # Another process's lease on Dev is an OS lock on its lease file; hold it as that process would.
                New-Item -ItemType Directory -Force (Join-Path $sandbox.Path 'leases') | Out-Null
                $held = [IO.File]::Open((Join-Path $sandbox.Path 'leases/dev.lease'), 'OpenOrCreate', 'ReadWrite', 'None')
                try { Invoke-TtmRecycle -Farm Dev -Role Reports -Timeout 0:1:0 } finally { $held.Dispose() } } }
        @{ Code = 'AuditFailed'; Action = {
                $file = Join-Path $sandbox.Path 'not-a-folder'
                Set-Content $file 'x'
                Connect-TtmFleet -Sandbox -Path $sandbox.Path -AuditLogPath (Join-Path $file 'audit.log') | Out-Null
                Set-TtmFarmRole -Farm Dev -Role Reports-1-6 } }
        @{ Code = 'JournalCorrupt'; Action = {
                $journal = Join-Path $sandbox.Path 'not-a-journal.jsonl'
                Set-Content $journal 'these are', 'not journal lines'
                Invoke-TtmRebundle -Resume $journal -ApproveProduction } }
        @{ Code = 'SshKeyNotFound'; Action = {
                Get-TtmServer -Farm Dev -Role Reports | Invoke-TtmSsh -Command true -Address 127.0.0.1 -KeyFile (Join-Path $sandbox.Path 'no-such-key') } }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'helpers/Ec2Endpoint.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
    Set-Ec2TestCredentials

    # ErrorMapper is internal to the module; reach it, TtmException and TtmErrorCode through the cmdlets' assembly.
    $script:mapper = (Get-Command Connect-TtmFleet).ImplementingType.Assembly.GetType('Rebundle.PowerShell.Infrastructure.ErrorMapper', $true)
    $script:categoryOf = $mapper.GetMethod('CategoryOf', [Reflection.BindingFlags] 'Static, Public, NonPublic')
    $script:codeType = $categoryOf.GetParameters()[0].ParameterType
    $script:ttmException = $mapper.GetMethod('ToRecord').GetParameters()[0].ParameterType

    # The first error a script block gives, terminating or not.
    function Get-FirstError([scriptblock] $Action) {
        $ErrorActionPreference = 'Stop'
        try { & $Action | Out-Null } catch { return $_ }
        $null
    }

    # TtmConnectionFailed takes ~10 s of the SDK's retries and backoff, nearly all of it waiting,
    # so it runs from the start in a runspace of its own (a connection belongs to its runspace)
    # while the other cases run here; its test takes the error record it gave.
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
    $script:unreachable = Start-ThreadJob -ArgumentList (Get-RebundleModulePath), $port -ScriptBlock {
        param($module, $port)
        Import-Module $module
        try { Connect-TtmFleet -Aws -EndpointUrl "http://127.0.0.1:$port/" -Region us-east-1 -ErrorAction Stop | Out-Null } catch { $_ }
    }

    function Assert-TtmError($Record, [string] $Code, [string] $Category) {
        $Record | Should -Not -BeNullOrEmpty -Because "the cmdlet should fail with Ttm$Code"
        # The id is Ttm<Code>, with the backend's own code after a dot where there is one.
        $Record.FullyQualifiedErrorId | Should -Match "^Ttm$Code(\.[^,]+)?,Rebundle\." -Because $Record.Exception.Message
        "$($Record.CategoryInfo.Category)" | Should -Be $Category
        $Record.Exception | Should -BeOfType $ttmException
    }
}

AfterAll {
    $unreachable | Remove-Job -Force -ErrorAction Ignore # received already, unless its test was filtered out
    Stop-TestEc2Endpoint
    Restore-Ec2TestCredentials
}

Describe 'ErrorMapper: every TtmErrorCode has its decided category' {
    It 'the table names every code, and no code falls through to NotSpecified' {
        $codes = [Enum]::GetNames($codeType)
        $codes | Sort-Object | Should -Be ($categories.Keys | Sort-Object)
    }

    It 'Ttm<Code> is <Category>' -ForEach $table {
        $category = $categoryOf.Invoke($null, @([Enum]::Parse($codeType, $Code)))

        "$category" | Should -Be $Category
    }
}

Describe 'Error ids reached from the cmdlets on the Sandbox' {
    BeforeAll {
        # The one case that needs a child process (pwsh -NonInteractive) starts first, on a
        # Sandbox of its own, and runs while the in-process cases below do.
        $approvalSandbox = Join-Path $TestDrive 'approval'
        $script:approvalChild = Start-ChildRebundleJob "Connect-TtmFleet -Sandbox -Path '$approvalSandbox' -AuditLogPath '$(Join-Path $approvalSandbox 'audit.log')' | Out-Null; Set-TtmFarmRole -Farm Production -Role Sidekiq-1-6 -ErrorAction SilentlyContinue; `$e = `$Error[0]; 'id:' + `$e.FullyQualifiedErrorId; 'category:' + `$e.CategoryInfo.Category"
    }

    AfterAll { $approvalChild | Remove-Job -Force -ErrorAction Ignore } # received already, unless that test was filtered out

    BeforeEach {
        $script:sandbox = New-TestSandbox -Path (Join-Path $TestDrive ([guid]::NewGuid().ToString('n')))
    }

    It 'Ttm<Code>' -ForEach $reached {
        $record = Get-FirstError $Action

        Assert-TtmError $record $Code $categories[$Code]
    }

    It 'TtmStateFileLocked: the Sandbox file locked by another process, for as long as a command waits' {
        # A command waits 30 s for the lock unless $env:REBUNDLE_SANDBOX_LOCK_SECONDS (read at
        # connect) says otherwise; 2 s proves the wait and the error as well.
        $saved = $env:REBUNDLE_SANDBOX_LOCK_SECONDS
        $env:REBUNDLE_SANDBOX_LOCK_SECONDS = '2'
        try { Connect-TtmFleet -Sandbox -Path $sandbox.Path -AuditLogPath $sandbox.AuditLog | Out-Null }
        finally { $env:REBUNDLE_SANDBOX_LOCK_SECONDS = $saved }
        $held = [IO.File]::Open($sandbox.StateFile + '.lock', 'OpenOrCreate', 'ReadWrite', 'None')
        $waited = [Diagnostics.Stopwatch]::StartNew()
        try { $record = Get-FirstError { Get-TtmFarm } } finally { $held.Dispose() }

        Assert-TtmError $record StateFileLocked $categories.StateFileLocked
        $record.Exception.Message | Should -Match 'stayed locked by another process for 2s'
        $waited.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 2 -Because 'the command waits for the lock before it gives up'
    }

    It 'TtmSshConnectionFailed: a valid key, and nothing listening on the port' {
        $key = Join-Path $sandbox.Path 'id_ed25519'
        & ssh-keygen -q -t ed25519 -N '' -f $key | Out-Null
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()

        $record = Get-FirstError { Get-TtmServer -Farm Dev -Role Reports | Invoke-TtmSsh -Command true -Address 127.0.0.1 -Port $port -KeyFile $key -ConnectTimeout 0:0:5 }

        Assert-TtmError $record SshConnectionFailed $categories.SshConnectionFailed
        $record.Exception.Message | Should -Match "port $port"
    }

    It 'TtmApprovalRequired: a Production change in pwsh -NonInteractive' {
        $lines = $approvalChild | Receive-ChildRebundleJob

        $lines | Should -Contain 'id:TtmApprovalRequired,Rebundle.PowerShell.Commands.SetTtmFarmRoleCommand'
        $lines | Should -Contain "category:$($categories.ApprovalRequired)"
    }
}

Describe 'Error ids reached from Invoke-TtmRebundle -Resume' {
    It 'TtmRoleConflict: a role the run planned was made by someone else before the resume' {
        $sandbox = New-TestSandbox -Path (Join-Path $TestDrive ([guid]::NewGuid().ToString('n')))
        $journal = Join-Path $sandbox.Path 'j.jsonl'
        # The run stops in the staging recycle, before its snapshots: a replacement never boots.
        Set-TtmSandbox -NeverBoot 'Rebundle-Staging/RailsAppServer'
        $stopped = Get-FirstError { Invoke-TtmRebundle -SkipOsUpdate -BatchSize 6 -JournalPath $journal -Timeout 0:0:2 }
        $stopped.FullyQualifiedErrorId | Should -BeLike 'TtmReplacementTimeout,*'
        Set-TtmSandbox -NeverBoot @()
        # Someone snapshots a Dev server into the name the run planned.
        New-TtmRoleSnapshot -Farm Dev -Role RailsAppServer -Version 1-7 -Confirm:$false | Out-Null
        $productionImage = (Get-TtmRole -Name RailsAppServer).ImageId

        $record = Get-FirstError { Invoke-TtmRebundle -Resume $journal -ApproveProduction }

        Assert-TtmError $record RoleConflict $categories.RoleConflict
        $record.Exception.Message | Should -BeLike "Role RailsAppServer-1-7, which this rebundle*planned to create, was made outside this rebundle*It is not adopted*retire it and run -Resume '$journal' again, or start a new rebundle*"
        (Get-TtmRole -Name RailsAppServer).ImageId | Should -Be $productionImage
    }
}

Describe 'Error ids reached from the SSH cmdlets on a real sshd' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'helpers/SshTestServer.ps1')
        $script:sshd = Start-TestSshd
        $script:ssh = @{ Address = '127.0.0.1'; Port = $sshd.Port; User = $sshd.User; KeyFile = $sshd.KeyFile; KnownHostsFile = $sshd.KnownHostsFile }
    }

    AfterAll { Stop-TestSshd $sshd }

    BeforeEach {
        Reset-TestSshdState $sshd
        $script:sandbox = New-TestSandbox -Path (Join-Path $TestDrive ([guid]::NewGuid().ToString('n')))
        $script:server = Get-TtmServer -Farm Dev -Role Reports
    }

    It 'TtmSshHostKeyRejected: the known-hosts file lists another key for the server' {
        $otherKey = Join-Path $sandbox.Path 'other_host_key'
        & ssh-keygen -q -t ed25519 -N '' -f $otherKey | Out-Null
        $knownHosts = Join-Path $sandbox.Path 'known_hosts'
        "[127.0.0.1]:$($sshd.Port) $((Get-Content "$otherKey.pub" -Raw).Split(' ')[0..1] -join ' ')" | Set-Content $knownHosts
        $marker = Join-Path $sshd.State 'host-key-ran'
        $settings = $ssh.Clone(); $settings.KnownHostsFile = $knownHosts

        $record = Get-FirstError { $server | Invoke-TtmSsh @settings -Command "touch $marker" -TrustNewHostKey }

        Assert-TtmError $record SshHostKeyRejected $categories.SshHostKeyRejected
        $record.Exception.Message | Should -BeLike "*has CHANGED*$($sshd.HostKeyFingerprint)*$knownHosts line 1*ssh-keygen -R '``[127.0.0.1``]:$($sshd.Port)' -f '$knownHosts'*"
        $marker | Should -Not -Exist -Because 'nothing is sent to a server whose key is rejected, -TrustNewHostKey or not'
    }

    It 'TtmSshCommandFailed: apt-get exits non-zero on a held dpkg lock' {
        '' | Set-Content (Join-Path $sshd.State 'apt-locked')

        $record = Get-FirstError { $server | Update-TtmServerOs @ssh -Reboot -Confirm:$false }

        Assert-TtmError $record SshCommandFailed $categories.SshCommandFailed
        $record.Exception.Message | Should -BeLike 'apt-get update failed on Reports.1 (exit 100)*held the dpkg lock*wait for it and run again.'
        Join-Path $sshd.State 'reboot.log' | Should -Not -Exist
    }

    It 'TtmSshTimeout: the server does not come back from its reboot within -RebootTimeout' {
        '' | Set-Content (Join-Path $sshd.State 'reboot-never')

        # Longer than the 5 s between attempts, so at least one connection is refused on the way.
        $record = Get-FirstError { $server | Update-TtmServerOs @ssh -Reboot -RebootTimeout 0:0:7 -Confirm:$false }

        Assert-TtmError $record SshTimeout $categories.SshTimeout
        $record.Exception.Message | Should -BeLike 'Reports.1 (127.0.0.1) did not come back within 00:00:07 after the reboot (not answering yet). The updates are installed; check the server''s console, then run Test-TtmServer on it.'
    }

    It 'TtmCheckFailed: a check command exits non-zero' {
        $record = Get-FirstError { $server | Test-TtmServer @ssh -Check Command -Command 'test -e /no/such/file' }

        Assert-TtmError $record CheckFailed $categories.CheckFailed
        $record.Exception.Message | Should -BeLike 'Reports.1 of farm Dev failed 1 of 1 checks, so it is not passed on: Command test -e /no/such/file: *Fix the server (or the check) and run Test-TtmServer on it again*'
    }
}

Describe 'Error ids reached from the cmdlets on the EC2 endpoint' {
    BeforeAll {
        $script:ec2 = Start-TestEc2Endpoint
    }

    It 'TtmConnectionFailed: nothing listens at the endpoint' {
        $record = $unreachable | Receive-Job -Wait -AutoRemoveJob

        Assert-TtmError $record ConnectionFailed $categories.ConnectionFailed
    }

    It 'TtmAccessDenied: a key the endpoint does not know' {
        $saved = $env:AWS_ACCESS_KEY_ID
        $env:AWS_ACCESS_KEY_ID = 'AKIDSOMEONEELSE00001'
        try { $record = Get-FirstError { Connect-TtmFleet -Aws -EndpointUrl $ec2.Url -Region us-east-1 } }
        finally { $env:AWS_ACCESS_KEY_ID = $saved }

        Assert-TtmError $record AccessDenied $categories.AccessDenied
    }

    It 'TtmBackendError: EC2 keeps throttling past the retries' {
        Connect-TestEc2Fleet $ec2 | Out-Null
        Set-Ec2Fault $ec2 -Throttle 20 -ThrottleAction DescribeInstances

        $record = Get-FirstError { Get-TtmServer -Farm Dev }

        Set-Ec2Fault $ec2 -Throttle 0
        Assert-TtmError $record BackendError $categories.BackendError
    }

    It 'TtmManagedByAutoScaling: a farm role whose server an Auto Scaling group owns' {
        Connect-TestEc2Fleet $ec2 | Out-Null
        $server = Get-TtmServer -Farm Dev -Role Reports
        Set-Ec2Tag $ec2 -ResourceId $server.Id -Key 'aws:autoscaling:groupName' -Value 'dev-reports-asg'

        $record = Get-FirstError { Invoke-TtmRecycle -Farm Dev -Alias Reports -Force }

        Assert-TtmError $record ManagedByAutoScaling $categories.ManagedByAutoScaling
        $record.Exception.Message | Should -BeLike '*New-TtmFarmRole -AutoScalingGroup dev-reports-asg*'
        (Get-TtmServer -Farm Dev -Role Reports).Id | Should -Be $server.Id
    }

    It 'TtmScalingGroupNotFound and TtmFarmRoleAlreadyExists: New-TtmFarmRole for a group that is not there, and for a farm role that is' {
        Connect-TestEc2Fleet $ec2 | Out-Null
        Clear-Ec2RequestLog $ec2

        $missing = Get-FirstError { New-TtmFarmRole -Farm Dev -Alias Billing -Role Reports -AutoScalingGroup no-such-group }
        $exists = Get-FirstError { New-TtmFarmRole -Farm Dev -Alias Sidekiq -Role Sidekiq -AutoScalingGroup no-such-group }

        Assert-TtmError $missing ScalingGroupNotFound $categories.ScalingGroupNotFound
        $missing.Exception.Message | Should -BeLike "*no Auto Scaling group 'no-such-group'*nothing was changed*"
        Assert-TtmError $exists FarmRoleAlreadyExists $categories.FarmRoleAlreadyExists
        $exists.Exception.Message | Should -BeLike '*Dev/Sidekiq exists already*Get-TtmFarmRole -Farm Dev*'
        Get-Ec2RequestLog $ec2 | Where-Object mutating | Should -BeNullOrEmpty
    }
}
