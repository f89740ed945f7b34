# The cmdlets on the Scalr backend: the loopback Scalr (tests/Rebundle.ScalrApi) and the loopback
# EC2 endpoint it launches instances on (tests/Rebundle.Ec2Endpoint), each a separate process on
# 127.0.0.1, fresh and seeded with the runbook's fleet for each scenario.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'helpers/RunbookScenario.ps1')
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force

    $script:KeyId = 'APIKEY-PESTER-0001'
    $script:SecretText = 'pester-S3cret/Value+='
    $script:EnvId = '5'
    $script:Ec2Key = 'AKIDTTMTESTKEY000001'
    $script:Ec2Secret = 'ttm-loopback-secret-000001'   # the EC2 endpoint verifies signatures with it
    $script:Processes = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()

    # The two loopback servers, built once for this file.
    $script:ServersDir = Join-Path (Get-RepoRoot) "out/test-servers"
    foreach ($name in 'Rebundle.ScalrApi', 'Rebundle.Ec2Endpoint') {
        $project = Join-Path (Get-RepoRoot) "tests/$name/$name.csproj"
        dotnet build $project -c Release -o (Join-Path $script:ServersDir $name) --nologo -v quiet | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "Building $name failed." }
    }

    # Starts one server process and returns its URL (the first line it prints).
    function Start-LoopbackServer([string] $Name, [string[]] $Arguments) {
        $info = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
        $info.ArgumentList.Add((Join-Path $script:ServersDir "$Name/$Name.dll"))
        foreach ($a in $Arguments) { $info.ArgumentList.Add($a) }
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardInput = $true   # closing it (or our exit) stops the Scalr server
        $info.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($info)
        $script:Processes.Add($process)
        $line = $process.StandardOutput.ReadLineAsync()
        if (-not $line.Wait([TimeSpan]::FromSeconds(60))) { throw "$Name did not start within 60 s." }
        $line.Result.TrimEnd('/')
    }

    # A fresh seeded pair: EC2 first (the Scalr seed adopts its images and instances), then Scalr.
    function Start-LoopbackScalr {
        $ec2 = Start-LoopbackServer 'Rebundle.Ec2Endpoint' @('--port', '0', '--seed', 'runbook', '--boot-seconds', '1',
            '--image-seconds', '1', '--shutdown-seconds', '0.5',
            '--visibility-seconds', '0.2', '--status-report-seconds', '0.1', '--status-check-seconds', '0.1', '--insufficient-data-seconds', '0.1', '--access-key', $Ec2Key, '--secret-key', $Ec2Secret, '--lifetime-seconds', '900')
        $scalr = Start-LoopbackServer 'Rebundle.ScalrApi' @('--port', '0', '--key-id', $KeyId, '--secret', $SecretText,
            '--env', $EnvId, '--seed', 'runbook', '--ec2-endpoint', "$ec2/", '--ec2-access-key', $Ec2Key, '--ec2-secret-key', $Ec2Secret,
            '--boot-seconds', '1.5', '--terminate-seconds', '0', '--scaling-seconds', '5', '--lifetime-seconds', '900')
        [pscustomobject]@{ Url = $scalr; Ec2 = "$ec2/" }
    }

    function Connect-LoopbackScalr([pscustomobject] $Servers, [string] $Secret = $SecretText) {
        Connect-TtmFleet -Scalr -Url $Servers.Url -KeyId $KeyId -Secret (ConvertTo-SecureString $Secret -AsPlainText -Force) `
            -EnvironmentId $EnvId -AwsRegion us-east-1 -Ec2EndpointUrl $Servers.Ec2 -PollInterval '0:0:0.5'
    }

    # The backend's CreateImage goes through the SDK's credential chain: the EC2 endpoint's test key.
    $script:SavedAws = @{}
    foreach ($pair in @{ AWS_ACCESS_KEY_ID = $Ec2Key; AWS_SECRET_ACCESS_KEY = $Ec2Secret; AWS_EC2_METADATA_DISABLED = 'true'; AWS_PROFILE = $null }.GetEnumerator()) {
        $script:SavedAws[$pair.Key] = [Environment]::GetEnvironmentVariable($pair.Key)
        [Environment]::SetEnvironmentVariable($pair.Key, $pair.Value)
    }
}

AfterAll {
    Disconnect-TtmFleet -ErrorAction SilentlyContinue
    foreach ($process in $script:Processes) {
        if (-not $process.HasExited) { $process.Kill($true); $process.WaitForExit(5000) | Out-Null }
        $process.Dispose()
    }
    foreach ($pair in $script:SavedAws.GetEnumerator()) { [Environment]::SetEnvironmentVariable($pair.Key, $pair.Value) }
}

Describe 'The runbook on Scalr' {
    Add-RunbookScenario -Connect { $script:scalr = Start-LoopbackScalr; Connect-LoopbackScalr $script:scalr | Out-Null }

    It "never needed Scalr's scaling engine (every 5 s here): no farm role fell below its count or rose above its maximum" {
        (Invoke-RestMethod "$($script:scalr.Url)/__test/scaling").data | Should -BeNullOrEmpty
    }
}

Describe 'Connect-TtmFleet -Scalr' {
    BeforeAll {
        $script:servers = Start-LoopbackScalr
    }

    It 'connects and names the environment' {
        $connection = Connect-LoopbackScalr $servers
        $connection.Backend | Should -Be 'Scalr'
        $connection.Location | Should -BeLike "*environment $EnvId*"
        (Get-TtmFarm).Name | Sort-Object | Should -Be @('Dev', 'Production', 'Rebundle-Staging')
    }

    It 'reports a wrong secret plainly, with the Scalr code in the ErrorId and no secret anywhere' {
        $wrong = 'Wr0ng-Pester-Secret'
        $err = { Connect-LoopbackScalr $servers -Secret $wrong } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'TtmAccessDenied.BadAuthentication,*'
        $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $err.Exception.Message | Should -BeLike '*-Secret*'
        "$err $($err.Exception) $($err.ScriptStackTrace)" | Should -Not -BeLike "*$wrong*"
    }

    It 'falls back to the SCALR_* environment variables' {
        $saved = 'SCALR_URL', 'SCALR_KEY_ID', 'SCALR_SECRET', 'SCALR_ENV_ID' | ForEach-Object { @{ Name = $_; Value = [Environment]::GetEnvironmentVariable($_) } }
        try {
            $env:SCALR_URL = $servers.Url; $env:SCALR_KEY_ID = $KeyId; $env:SCALR_SECRET = $SecretText; $env:SCALR_ENV_ID = $EnvId
            (Connect-TtmFleet -Scalr).Backend | Should -Be 'Scalr'
            (Get-TtmFarmRole -Farm Rebundle-Staging).Role | Sort-Object -Unique | Should -Be 'TTM-Base'
        }
        finally {
            foreach ($s in $saved) { [Environment]::SetEnvironmentVariable($s.Name, $s.Value) }
        }
    }

    It 'never shows the secret in verbose or debug output' {
        $lines = Connect-LoopbackScalr $servers -Verbose -Debug 4>&1 5>&1 | ForEach-Object { "$_" }
        $lines | Should -Not -BeNullOrEmpty
        $lines | Where-Object { $_ -like "*$SecretText*" } | Should -BeNullOrEmpty
    }

    It 'names what is missing when nothing is given' {
        $saved = 'SCALR_URL', 'SCALR_KEY_ID', 'SCALR_SECRET', 'SCALR_ENV_ID' | ForEach-Object { @{ Name = $_; Value = [Environment]::GetEnvironmentVariable($_) } }
        try {
            $saved | ForEach-Object { [Environment]::SetEnvironmentVariable($_.Name, $null) }
            $err = { Connect-TtmFleet -Scalr -KeyId $KeyId } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'TtmInvalidArgument,*'
            $err.Exception.Message | Should -BeLike '*-Url (or SCALR_URL)*-Secret (or SCALR_SECRET)*'
        }
        finally {
            foreach ($s in $saved) { [Environment]::SetEnvironmentVariable($s.Name, $s.Value) }
        }
    }
}

# The loopback's fault controls (/__test/lose, /__test/limit) driven through the cmdlets: a run
# through either ends with the fleet right, nothing made twice. (A spent throttle budget ending in
# TtmThrottled is tested in xunit, ThrottleAndLostAnswerTests: Connect-TtmFleet has no option to
# shorten the 3-minute budget, and ErrorMapper's table maps Throttled to LimitsExceeded.)
Describe 'Scalr faults through the cmdlets' -ForEach @(
    @{ Fault = 'every POST answer lost'; Control = 'lose?method=POST&count=1000' }
    @{ Fault = '403 LimitExceeded beyond 10 requests a second'; Control = 'limit?requests=10&seconds=1' }
) {
    BeforeAll {
        $script:servers = Start-LoopbackScalr
        Connect-LoopbackScalr $script:servers | Out-Null
        $script:rolesBefore = @(Get-TtmRole -IncludeVersions)
        $script:farmRoles = @(Get-TtmFarmRole -Farm Dev)
        Invoke-RestMethod "$($script:servers.Url)/__test/$Control" | Out-Null
    }
    AfterAll {
        Invoke-RestMethod "$($script:servers.Url)/__test/lose?count=0" | Out-Null
        Invoke-RestMethod "$($script:servers.Url)/__test/limit?requests=0" | Out-Null
    }

    It 'snapshots with <Fault>: one new role and one image per server, no duplicate' {
        $roles = Get-TtmServer -Farm Dev -Role Sidekiq, Reports | New-TtmRoleSnapshot -Timeout '0:2:0'

        @($roles).Name | Sort-Object | Should -Be @('Reports-1-7', 'Sidekiq-1-7')
        $after = @(Get-TtmRole -IncludeVersions)
        $after | Should -HaveCount ($script:rolesBefore.Count + 2)
        @($after.Name | Sort-Object -Unique) | Should -HaveCount $after.Count
        $newImages = @($after | Where-Object Name -in 'Reports-1-7', 'Sidekiq-1-7').ImageId
        @($newImages | Sort-Object -Unique) | Should -HaveCount 2
        $newImages | Should -Not -BeIn $script:rolesBefore.ImageId
    }

    It 'recycles Dev with <Fault>: every farm role at its count on new servers, none twice' {
        $before = @(Get-TtmServer -Farm Dev)

        $recycled = @(Invoke-TtmRecycle -Farm Dev -BatchSize 3 -Timeout '0:2:0')

        $recycled | Should -HaveCount $before.Count
        $after = @(Get-TtmServer -Farm Dev | Where-Object Status -in 'Running', 'Pending')
        @($after.Status | Sort-Object -Unique) | Should -Be 'Running'
        foreach ($farmRole in $script:farmRoles) {
            @($after | Where-Object Alias -eq $farmRole.Alias) | Should -HaveCount $farmRole.DesiredCount -Because "$($farmRole.Alias) keeps its count"
        }
        @($after.Name | Sort-Object -Unique) | Should -HaveCount $after.Count
        @($after.Id | Where-Object { $_ -in $before.Id }) | Should -BeNullOrEmpty
    }
}
