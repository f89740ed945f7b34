# Starts and drives the loopback EC2 endpoint (tests/Rebundle.Ec2Endpoint) as a separate
# process for the AWS Pester tests, and points the AWS SDK's credential chain at it.

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path
$script:AccessKey = 'AKIDTTMTESTKEY000001'
# The endpoint verifies SigV4 signatures with this secret (--secret-key), as EC2 does with the key's own.
$script:SecretKey = 'ttm-loopback-secret-000001'
$script:Started = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
$script:SavedEnvironment = @{}

function Get-Ec2EndpointDll {
    $project = Join-Path $script:RepoRoot 'tests/Rebundle.Ec2Endpoint'
    $dll = Get-ChildItem (Join-Path $project 'bin') -Filter Rebundle.Ec2Endpoint.dll -Recurse -ErrorAction SilentlyContinue |
        Where-Object { $_.Directory.Name -eq 'net10.0' } | Sort-Object LastWriteTime -Descending | Select-Object -First 1
    if (-not $dll) {
        & dotnet build $project -c Release --nologo -v quiet | Out-Host
        if ($LASTEXITCODE -ne 0) { throw "Building the EC2 test endpoint failed (exit code $LASTEXITCODE)." }
        $dll = Get-ChildItem (Join-Path $project 'bin/Release/net10.0/Rebundle.Ec2Endpoint.dll')
    }
    $dll.FullName
}

# The SDK finds the endpoint's test key through its standard chain (environment variables);
# shared files and the instance metadata service are switched off so nothing of the machine's
# own AWS setup leaks in.
function Set-Ec2TestCredentials {
    $values = @{
        AWS_ACCESS_KEY_ID           = $script:AccessKey
        AWS_SECRET_ACCESS_KEY       = $script:SecretKey
        AWS_SESSION_TOKEN           = $null
        AWS_PROFILE                 = $null
        AWS_REGION                  = 'us-east-1'
        AWS_SHARED_CREDENTIALS_FILE = Join-Path ([IO.Path]::GetTempPath()) 'rebundle-pester-no-credentials'
        AWS_CONFIG_FILE             = Join-Path ([IO.Path]::GetTempPath()) 'rebundle-pester-no-config'
        AWS_EC2_METADATA_DISABLED   = 'true'
        # The endpoint reads tags back at once; a lease's 2 s settle would be paid by every change.
        REBUNDLE_AWS_LEASE_SETTLE_SECONDS = '0.5'
    }
    foreach ($name in $values.Keys) {
        if (-not $script:SavedEnvironment.ContainsKey($name)) { $script:SavedEnvironment[$name] = [Environment]::GetEnvironmentVariable($name) }
        [Environment]::SetEnvironmentVariable($name, $values[$name])
    }
}

function Restore-Ec2TestCredentials {
    foreach ($name in @($script:SavedEnvironment.Keys)) { [Environment]::SetEnvironmentVariable($name, $script:SavedEnvironment[$name]) }
    $script:SavedEnvironment.Clear()
}

# Starts an endpoint seeded with the runbook's fleet; returns its URL and process.
function Start-TestEc2Endpoint {
    param(
        [double] $BootSeconds = 0.3,
        [double] $ImageSeconds = 0.5,
        # CreateImage without NoReboot takes the instance's status checks away this long (EC2 reboots it).
        [double] $RebootSeconds = 0.3,
        [int] $PageSize = 1000,
        # EC2's strictness, on for every test (a fraction of BootSeconds, so the tests stay fast): new
        # instances, images and templates invisible for a while (NotFound by id meanwhile), status checks
        # reported late, "initializing" and then "insufficient-data" before "ok". Pass 0 to switch one off.
        [double] $VisibilitySeconds = 0.2,
        [double] $StatusReportSeconds = 0.1,
        [double] $StatusCheckSeconds = 0.1,
        [double] $InsufficientDataSeconds = 0.1,
        # Dev's and Production's RailsAppServer and NodeAppServer behind an ELBv2 target group each
        # (named by RunbookFleet, as the Sandbox names them: dev-railsappserver; tag ttm:target-groups), their servers healthy. A registered target turns
        # healthy after HealthCheckIntervalSeconds x HealthyThreshold; a deregistered one drains for
        # DeregistrationDelaySeconds. Off by default: the older tests expect no target groups.
        [switch] $TargetGroups,
        # Those four farm roles as Auto Scaling groups <Farm>-<Alias> (Production-RailsAppServer): min 1,
        # max = desired = count, ELB health checks, their servers the groups' instances. Implies -TargetGroups.
        [switch] $AutoScalingGroups,
        [double] $DeregistrationDelaySeconds = 1,
        [double] $HealthCheckIntervalSeconds = 0.2,
        [int] $HealthyThreshold = 2,
        # An empty region instead of the runbook's fleet (nothing of Rebundle's: no roles, farm roles or servers).
        [switch] $NoSeed,
        # Every seeded running instance a Systems Manager managed instance, its agent Online, its own state
        # folder as Reset-TestSshdState leaves one (boot-time 2026-01-01 00:00:00, chef/cookbooks): commands
        # sent over SSM really run there, with the SSH tests' fakes on PATH. Instances launched later become
        # managed once they run (their image's agent), with the files of Add-Ec2SsmLaunchFile.
        [switch] $Ssm,
        # S3 buckets SSM may write whole command output to (read back with s3:GetObject on the same URL).
        [string[]] $SsmBucket = @(),
        # SSM's timings on the wall clock: InvocationDoesNotExist after SendCommand, a reboot's absence, Cancelling.
        [double] $SsmNotYetVisibleSeconds = 0.5,
        [double] $SsmRebootSeconds = 1,
        [double] $SsmCancelSeconds = 0.2
    )
    $info = [System.Diagnostics.ProcessStartInfo]::new((Get-Command dotnet).Source)
    foreach ($argument in @((Get-Ec2EndpointDll), '--port', '0', '--seed', $(if ($NoSeed) { 'none' } else { 'runbook' }), '--boot-seconds', $BootSeconds, '--image-seconds', $ImageSeconds, '--reboot-seconds', $RebootSeconds,
            '--shutdown-seconds', '0', '--page-size', $PageSize,
            '--visibility-seconds', $VisibilitySeconds, '--status-report-seconds', $StatusReportSeconds, '--status-check-seconds', $StatusCheckSeconds,
            '--insufficient-data-seconds', $InsufficientDataSeconds, '--access-key', $script:AccessKey, '--secret-key', $script:SecretKey, '--lifetime-seconds', '900')) {
        $info.ArgumentList.Add([string] $argument)
    }
    if ($TargetGroups -or $AutoScalingGroups) {
        foreach ($argument in @('--seed-target-groups', '--deregistration-delay-seconds', $DeregistrationDelaySeconds,
                '--health-check-interval-seconds', $HealthCheckIntervalSeconds, '--healthy-threshold', $HealthyThreshold)) {
            $info.ArgumentList.Add([string] $argument)
        }
    }
    if ($AutoScalingGroups) { $info.ArgumentList.Add('--seed-auto-scaling-groups') }
    foreach ($argument in @('--ssm-not-yet-visible-seconds', $SsmNotYetVisibleSeconds, '--ssm-reboot-seconds', $SsmRebootSeconds, '--ssm-cancel-seconds', $SsmCancelSeconds)) {
        $info.ArgumentList.Add([string] $argument)
    }
    if ($Ssm) { $info.ArgumentList.Add('--ssm') }
    foreach ($bucket in $SsmBucket) { $info.ArgumentList.Add('--ssm-bucket'); $info.ArgumentList.Add($bucket) }
    $info.RedirectStandardOutput = $true
    $info.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($info)
    $script:Started.Add($process)
    $line = $process.StandardOutput.ReadLineAsync()
    if (-not $line.Wait([TimeSpan]::FromSeconds(60)) -or -not $line.Result) {
        Stop-TestEc2Endpoint
        throw 'The EC2 test endpoint did not print its URL within 60 seconds.'
    }
    [pscustomobject]@{ Url = $line.Result.Trim(); Process = $process }
}

function Stop-TestEc2Endpoint {
    foreach ($process in $script:Started) {
        # SIGTERM first: the endpoint then stops its SSM commands and deletes their folders; kill what is left.
        if (-not $process.HasExited -and -not $IsWindows) { & kill -TERM $process.Id 2>$null; $process.WaitForExit(3000) | Out-Null }
        if (-not $process.HasExited) { $process.Kill(); $process.WaitForExit(10000) | Out-Null }
        $process.Dispose()
    }
    $script:Started.Clear()
}

# The endpoint's request log: action, status, errorCode, mutating, parameters.
function Get-Ec2RequestLog([Parameter(Mandatory)] $Endpoint) {
    # Invoke-RestMethod writes a JSON array as one object; returning it from a variable sends its items one by one.
    $log = Invoke-RestMethod -Uri "$($Endpoint.Url)_ttm/requests"
    $log
}

function Clear-Ec2RequestLog([Parameter(Mandatory)] $Endpoint) {
    Invoke-RestMethod -Method Delete -Uri "$($Endpoint.Url)_ttm/requests" | Out-Null
}

function Set-Ec2Fault {
    param(
        [Parameter(Mandatory)] $Endpoint,
        [int] $Throttle,
        [string] $ThrottleAction,
        [int] $StallLaunches,
        [int] $FailLaunches,
        [string] $FailImage,
        # Actions refused with UnauthorizedOperation (DryRun included), comma-separated; '' allows all again.
        [string] $Deny,
        # The next N targets registered in any target group stay unhealthy (never healthy).
        [int] $UnhealthyRegistrations,
        # ELBv2 actions refused with AccessDenied, comma-separated; '' allows all again.
        [string] $DenyElb,
        # The next N mutating Auto Scaling calls are refused: 400 ScalingActivityInProgress / 500 ResourceContention.
        [int] $ScalingActivityInProgress,
        [int] $ResourceContention,
        # Auto Scaling actions refused with AccessDenied, comma-separated; '' allows all again.
        [string] $DenyAsg
    )
    $query = @()
    if ($PSBoundParameters.ContainsKey('Throttle')) { $query += "throttle=$Throttle" }
    if ($ThrottleAction) { $query += "throttleAction=$ThrottleAction" }
    if ($PSBoundParameters.ContainsKey('StallLaunches')) { $query += "stallLaunches=$StallLaunches" }
    if ($PSBoundParameters.ContainsKey('FailLaunches')) { $query += "failLaunches=$FailLaunches" }
    if ($PSBoundParameters.ContainsKey('Deny')) { $query += 'deny=' + [uri]::EscapeDataString($Deny) }
    if ($FailImage) { $query += 'failImage=' + [uri]::EscapeDataString($FailImage) }
    if ($PSBoundParameters.ContainsKey('UnhealthyRegistrations')) { $query += "unhealthyRegistrations=$UnhealthyRegistrations" }
    if ($PSBoundParameters.ContainsKey('DenyElb')) { $query += 'denyElb=' + [uri]::EscapeDataString($DenyElb) }
    if ($PSBoundParameters.ContainsKey('ScalingActivityInProgress')) { $query += "scalingActivityInProgress=$ScalingActivityInProgress" }
    if ($PSBoundParameters.ContainsKey('ResourceContention')) { $query += "resourceContention=$ResourceContention" }
    if ($PSBoundParameters.ContainsKey('DenyAsg')) { $query += 'denyAsg=' + [uri]::EscapeDataString($DenyAsg) }
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/faults?$($query -join '&')" | Out-Null
}

# A tag written as another writer would (the console, an Auto Scaling group).
function Set-Ec2Tag([Parameter(Mandatory)] $Endpoint, [Parameter(Mandatory)] [string] $ResourceId, [Parameter(Mandatory)] [string] $Key, [string] $Value = '') {
    $query = 'resource=' + [uri]::EscapeDataString($ResourceId) + '&key=' + [uri]::EscapeDataString($Key) + '&value=' + [uri]::EscapeDataString($Value)
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/tags?$query" | Out-Null
}

# An ELBv2 target group on the endpoint; returns { name, arn }. Tag a farm role with it by
# Set-Ec2Tag -ResourceId <farm-role template id> -Key ttm:target-groups -Value <name>[,<name>…].
function New-Ec2TargetGroup {
    param(
        [Parameter(Mandatory)] $Endpoint,
        [Parameter(Mandatory)] [string] $Name,
        [double] $DeregistrationDelaySeconds = 1,
        [double] $HealthCheckIntervalSeconds = 0.2,
        [int] $HealthyThreshold = 2
    )
    $query = 'name=' + [uri]::EscapeDataString($Name) + '&deregistrationDelaySeconds=' + $DeregistrationDelaySeconds.ToString([cultureinfo]::InvariantCulture) +
        '&intervalSeconds=' + $HealthCheckIntervalSeconds.ToString([cultureinfo]::InvariantCulture) + "&healthyThreshold=$HealthyThreshold"
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/elb/target-groups?$query"
}

# Makes a registered target fail its health checks (-Healthy: pass them again).
function Set-Ec2TargetHealth([Parameter(Mandatory)] $Endpoint, [Parameter(Mandatory)] [string] $TargetGroup, [Parameter(Mandatory)] [string] $InstanceId, [switch] $Healthy) {
    $query = 'targetGroup=' + [uri]::EscapeDataString($TargetGroup) + '&instance=' + [uri]::EscapeDataString($InstanceId) + '&unhealthy=' + ($(if ($Healthy) { 'false' } else { 'true' }))
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/elb/targets?$query" | Out-Null
}

# The target group's targets now: instance id -> ELBv2 state (initial, healthy, unhealthy, draining), as a hashtable.
function Get-Ec2TargetHealth([Parameter(Mandatory)] $Endpoint, [Parameter(Mandatory)] [string] $TargetGroup) {
    $states = Invoke-RestMethod -Uri "$($Endpoint.Url)_ttm/elb/targets?targetGroup=$([uri]::EscapeDataString($TargetGroup))"
    $table = @{}
    foreach ($property in $states.PSObject.Properties) { $table[$property.Name] = $property.Value }
    $table
}

# Gives a farm role target groups: its template farm/<Farm>/<Alias> gets ttm:target-groups = the names, comma-separated.
function Set-Ec2FarmRoleTargetGroups([Parameter(Mandatory)] $Endpoint, [Parameter(Mandatory)] [string] $Farm, [Parameter(Mandatory)] [string] $Alias, [string[]] $TargetGroup = @()) {
    $query = 'farm=' + [uri]::EscapeDataString($Farm) + '&alias=' + [uri]::EscapeDataString($Alias) + '&targetGroups=' + [uri]::EscapeDataString($TargetGroup -join ',')
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/elb/farm-role?$query" | Out-Null
}

function New-Ec2AutoScalingGroup {
    <#
    .SYNOPSIS
    An Auto Scaling group on the endpoint; returns { name, instances }.
    .DESCRIPTION
    Its -Desired instances are in service and healthy at once (-NoSeed: the group launches them).
    -Tag propagates at launch. -TargetGroup names ELBv2 target groups of the endpoint.
    #>
    param(
        [Parameter(Mandatory)] $Endpoint,
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $LaunchTemplate,
        [string] $Version = '$Default',
        [int] $Min = 1,
        [int] $Max = 1,
        [int] $Desired = 1,
        [string[]] $TargetGroup = @(),
        [ValidateSet('EC2', 'ELB')] [string] $HealthCheckType = 'EC2',
        [double] $HealthCheckGracePeriodSeconds = 0,
        [hashtable] $Tag = @{},
        [switch] $ProtectNewInstances,
        [switch] $NoSeed
    )
    $tags = ($Tag.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ','
    $query = @(
        ('name=' + [uri]::EscapeDataString($Name)), ('launchTemplate=' + [uri]::EscapeDataString($LaunchTemplate)), ('version=' + [uri]::EscapeDataString($Version)),
        "min=$Min", "max=$Max", "desired=$Desired", ('targetGroups=' + [uri]::EscapeDataString($TargetGroup -join ',')), "healthCheckType=$HealthCheckType",
        ('healthCheckGracePeriodSeconds=' + $HealthCheckGracePeriodSeconds.ToString([cultureinfo]::InvariantCulture)), ('tags=' + [uri]::EscapeDataString($tags)),
        ('protectNewInstances=' + $ProtectNewInstances.IsPresent.ToString().ToLowerInvariant()), ('seedInService=' + (-not $NoSeed).ToString().ToLowerInvariant())
    ) -join '&'
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/asg/groups?$query"
}

function Get-Ec2AutoScalingGroup {
    <#
    .SYNOPSIS
    The group as it is now: sizes, suspended processes, tags, instances (id, lifecycleState, healthStatus), activities newest first.
    #>
    param([Parameter(Mandatory)] $Endpoint, [Parameter(Mandatory)] [string] $Name)
    Invoke-RestMethod -Uri "$($Endpoint.Url)_ttm/asg/groups?name=$([uri]::EscapeDataString($Name))"
}

function Add-Ec2LifecycleHook {
    <#
    .SYNOPSIS
    A lifecycle hook on a group, for instances entering the transition from now on (AWS's defaults: 3600 s, ABANDON).
    #>
    param(
        [Parameter(Mandatory)] $Endpoint,
        [Parameter(Mandatory)] [string] $Group,
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [ValidateSet('launching', 'terminating')] [string] $Transition,
        [double] $HeartbeatSeconds = 3600,
        [ValidateSet('CONTINUE', 'ABANDON')] [string] $DefaultResult = 'ABANDON'
    )
    $query = 'group=' + [uri]::EscapeDataString($Group) + '&name=' + [uri]::EscapeDataString($Name) + "&transition=$Transition" +
        '&heartbeatSeconds=' + $HeartbeatSeconds.ToString([cultureinfo]::InvariantCulture) + "&defaultResult=$DefaultResult"
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/asg/hooks?$query" | Out-Null
}

# Tags as the endpoint's control takes them: K=V,K2=V2.
function ConvertTo-Ec2TagQuery([hashtable] $Tag) {
    [uri]::EscapeDataString((@($Tag.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ','))
}

function New-Ec2TestImage {
    <#
    .SYNOPSIS
    An image someone made without Rebundle, available at once; returns { id, name }.
    #>
    param([Parameter(Mandatory)] $Endpoint, [Parameter(Mandatory)] [string] $Name)
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/images?name=$([uri]::EscapeDataString($Name))"
}

function New-Ec2TestLaunchTemplate {
    <#
    .SYNOPSIS
    A launch template made by hand (not a role/ or farm/ one): one version, the default, with the image and type; returns { id, name }.
    #>
    param(
        [Parameter(Mandatory)] $Endpoint,
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $ImageId,
        [string] $InstanceType = 't3.small',
        [hashtable] $Tag = @{}
    )
    $query = 'name=' + [uri]::EscapeDataString($Name) + '&imageId=' + [uri]::EscapeDataString($ImageId) + '&instanceType=' + [uri]::EscapeDataString($InstanceType) + '&tags=' + (ConvertTo-Ec2TagQuery $Tag)
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/launch-templates?$query"
}

function New-Ec2TestInstance {
    <#
    .SYNOPSIS
    A running instance someone launched by hand (up for a day, checks passed), with just the tags given; returns { id }.
    .DESCRIPTION
    -ImageId defaults to the image of -LaunchTemplate (a template's name).
    #>
    param(
        [Parameter(Mandatory)] $Endpoint,
        [string] $ImageId,
        [string] $LaunchTemplate,
        [hashtable] $Tag = @{}
    )
    $query = 'imageId=' + [uri]::EscapeDataString($ImageId) + '&launchTemplate=' + [uri]::EscapeDataString($LaunchTemplate) + '&tags=' + (ConvertTo-Ec2TagQuery $Tag)
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/instances?$query"
}

function Get-Ec2TestInstance {
    <#
    .SYNOPSIS
    Every instance of the endpoint as it is now, terminated ones included: Id, State, ImageId, LaunchTemplateId, Tags (a hashtable).
    #>
    param([Parameter(Mandatory)] $Endpoint)
    $instances = Invoke-RestMethod -Uri "$($Endpoint.Url)_ttm/instances"
    foreach ($instance in $instances) {
        $tags = @{}
        foreach ($property in $instance.tags.PSObject.Properties) { $tags[$property.Name] = $property.Value }
        [pscustomobject]@{ Id = $instance.id; State = $instance.state; ImageId = $instance.imageId; LaunchTemplateId = $instance.launchTemplateId; Tags = $tags }
    }
}

function Register-Ec2ManagedInstance {
    <#
    .SYNOPSIS
    Makes an EC2 instance of the endpoint a Systems Manager managed instance (agent Online while it runs); returns { instanceId, root, workingDirectory, stateDirectory, binDirectory }.
    .DESCRIPTION
    Commands sent to it over SSM run for real in workingDirectory with the SSH tests' fakes first on PATH
    and FAKE_STATE = stateDirectory (boot-time -BootTime, chef/cookbooks), as on the test sshd.
    #>
    param(
        [Parameter(Mandatory)] $Endpoint,
        [Parameter(Mandatory)] [string] $InstanceId,
        [string] $Platform = 'Ubuntu',
        [string] $PlatformVersion = '22.04',
        [string] $BootTime = '2026-01-01 00:00:00'
    )
    $query = 'instance=' + [uri]::EscapeDataString($InstanceId) + '&platform=' + [uri]::EscapeDataString($Platform) +
        '&platformVersion=' + [uri]::EscapeDataString($PlatformVersion) + '&bootTime=' + [uri]::EscapeDataString($BootTime)
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/ssm/instances?$query"
}

function Set-Ec2AgentStatus {
    <#
    .SYNOPSIS
    The SSM agent of a managed instance from now on: ConnectionLost or Inactive whatever the instance does, or Online (as its state makes it again).
    #>
    param(
        [Parameter(Mandatory)] $Endpoint,
        [Parameter(Mandatory)] [string] $InstanceId,
        [Parameter(Mandatory)] [ValidateSet('Online', 'ConnectionLost', 'Inactive')] [string] $Status
    )
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/ssm/agent?instance=$([uri]::EscapeDataString($InstanceId))&status=$Status" | Out-Null
}

function Get-Ec2ManagedInstance {
    <#
    .SYNOPSIS
    Every managed instance now: instanceId, pingStatus, lastPingDateTime, platformName, workingDirectory, stateDirectory, reboots.
    #>
    param([Parameter(Mandatory)] $Endpoint)
    $instances = Invoke-RestMethod -Uri "$($Endpoint.Url)_ttm/ssm/instances"
    $instances
}

function Get-Ec2SsmInvocation {
    <#
    .SYNOPSIS
    The SSM invocations so far, oldest first: commandId, instanceId, commands, status, statusDetails, responseCode, standardOutput and standardError (whole), runs, times.
    #>
    param([Parameter(Mandatory)] $Endpoint, [string] $CommandId, [string] $InstanceId)
    $query = @()
    if ($CommandId) { $query += 'commandId=' + [uri]::EscapeDataString($CommandId) }
    if ($InstanceId) { $query += 'instance=' + [uri]::EscapeDataString($InstanceId) }
    $invocations = Invoke-RestMethod -Uri "$($Endpoint.Url)_ttm/ssm/invocations?$($query -join '&')"
    $invocations
}

function Add-Ec2SsmLaunchFile {
    <#
    .SYNOPSIS
    A file the instances launched from now on find in their state folder ($FAKE_STATE) when -Ssm registers them, if their ttm:farm and ttm:alias tags match (omitted: any).
    .DESCRIPTION
    What a first boot leaves on a new server before anyone looks: -Path chef/failed-run-data.json for a Chef run that failed there.
    #>
    param([Parameter(Mandatory)] $Endpoint, [string] $Farm, [string] $Alias, [Parameter(Mandatory)] [string] $Path, [string] $Content = '')
    $query = 'farm=' + [uri]::EscapeDataString($Farm) + '&alias=' + [uri]::EscapeDataString($Alias) + '&path=' + [uri]::EscapeDataString($Path) + '&content=' + [uri]::EscapeDataString($Content)
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/ssm/launch-files?$query" | Out-Null
}

# An S3 bucket SSM may write command output to (-OutputBucket); output for any other bucket is lost.
function Add-Ec2SsmBucket([Parameter(Mandatory)] $Endpoint, [Parameter(Mandatory)] [string] $Name) {
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/ssm/buckets?name=$([uri]::EscapeDataString($Name))" | Out-Null
}

function Set-Ec2SsmFault {
    <#
    .SYNOPSIS
    SSM faults: -Deny actions (SendCommand, GetCommandInvocation, … AccessDeniedException; s3:GetObject AccessDenied; '' allows all again),
    -InvocationDoesNotExistSeconds (how long GetCommandInvocation does not know a new command). Throttling and lost answers: Set-Ec2Fault -Throttle/-ThrottleAction.
    #>
    param([Parameter(Mandatory)] $Endpoint, [string] $Deny, [double] $InvocationDoesNotExistSeconds)
    $query = @()
    if ($PSBoundParameters.ContainsKey('Deny')) { $query += 'deny=' + [uri]::EscapeDataString($Deny) }
    if ($PSBoundParameters.ContainsKey('InvocationDoesNotExistSeconds')) { $query += 'invocationDoesNotExistSeconds=' + $InvocationDoesNotExistSeconds.ToString([cultureinfo]::InvariantCulture) }
    Invoke-RestMethod -Method Post -Uri "$($Endpoint.Url)_ttm/ssm/faults?$($query -join '&')" | Out-Null
}

function Connect-TestEc2Fleet([Parameter(Mandatory)] $Endpoint) {
    Connect-TtmFleet -Aws -EndpointUrl $Endpoint.Url -Region us-east-1 -PollInterval '0:0:0.2'
}

Export-ModuleMember -Function Start-TestEc2Endpoint, Stop-TestEc2Endpoint, Get-Ec2RequestLog, Clear-Ec2RequestLog, Set-Ec2Fault, Set-Ec2Tag,
    New-Ec2TargetGroup, Set-Ec2TargetHealth, Get-Ec2TargetHealth, Set-Ec2FarmRoleTargetGroups, Set-Ec2TestCredentials, Restore-Ec2TestCredentials, Connect-TestEc2Fleet,
    New-Ec2AutoScalingGroup, Get-Ec2AutoScalingGroup, Add-Ec2LifecycleHook, New-Ec2TestImage, New-Ec2TestLaunchTemplate, New-Ec2TestInstance, Get-Ec2TestInstance,
    Register-Ec2ManagedInstance, Set-Ec2AgentStatus, Get-Ec2ManagedInstance, Get-Ec2SsmInvocation, Add-Ec2SsmBucket, Add-Ec2SsmLaunchFile, Set-Ec2SsmFault
