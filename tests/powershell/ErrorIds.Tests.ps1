# The error ids scripts match on: every TtmErrorCode has a decided ErrorCategory (a table, so a new
# code without a decision fails here), and every code a cmdlet can reach without a real SSH
# server comes out of that cmdlet as ErrorId "Ttm<Code>" with that category (issue 12).
# The codes that need a real sshd (host key, command, timeout, check) are reached in Ssh.Tests.ps1.

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
        ManagedByAutoScaling = 'InvalidOperation'
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
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Ec2Endpoint.psm1') -Force
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

    function Assert-TtmError($Record, [string] $Code, [string] $Category) {
        $Record | Should -Not -BeNullOrEmpty -Because "the cmdlet should fail with Ttm$Code"
        # The id is Ttm<Code>, with the backend's own code after a dot where there is one.
        $Record.FullyQualifiedErrorId | Should -Match "^Ttm$Code(\.[^,]+)?,Rebundle\." -Because $Record.Exception.Message
        "$($Record.CategoryInfo.Category)" | Should -Be $Category
        $Record.Exception | Should -BeOfType $ttmException
    }
}

AfterAll {
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
    BeforeEach {
        $script:sandbox = New-TestSandbox -Path (Join-Path $TestDrive ([guid]::NewGuid().ToString('n')))
    }

    It 'Ttm<Code>' -ForEach $reached {
        $record = Get-FirstError $Action

        Assert-TtmError $record $Code $categories[$Code]
    }

    It 'TtmStateFileLocked: the Sandbox file locked by another process' {
        $held = [IO.File]::Open($sandbox.StateFile + '.lock', 'OpenOrCreate', 'ReadWrite', 'None')
        try { $record = Get-FirstError { Get-TtmFarm } } finally { $held.Dispose() }

        Assert-TtmError $record StateFileLocked $categories.StateFileLocked
        $record.Exception.Message | Should -Match 'stayed locked by another process'
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
        $lines = Invoke-ChildRebundle "Connect-TtmFleet -Sandbox -Path '$($sandbox.Path)' | Out-Null; Set-TtmFarmRole -Farm Production -Role Sidekiq-1-6 -ErrorAction SilentlyContinue; `$e = `$Error[0]; 'id:' + `$e.FullyQualifiedErrorId; 'category:' + `$e.CategoryInfo.Category"

        $lines | Should -Contain 'id:TtmApprovalRequired,Rebundle.PowerShell.Commands.SetTtmFarmRoleCommand'
        $lines | Should -Contain "category:$($categories.ApprovalRequired)"
    }
}

Describe 'Error ids reached from the cmdlets on the EC2 endpoint' {
    BeforeAll {
        $script:ec2 = Start-TestEc2Endpoint
    }

    It 'TtmConnectionFailed: nothing listens at the endpoint' {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()

        $record = Get-FirstError { Connect-TtmFleet -Aws -EndpointUrl "http://127.0.0.1:$port/" -Region us-east-1 }

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
        $record.Exception.Message | Should -BeLike '*instance refresh*'
        (Get-TtmServer -Farm Dev -Role Reports).Id | Should -Be $server.Id
    }
}
