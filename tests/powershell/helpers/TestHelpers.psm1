# Shared by the Pester files: where the built module is, fresh Sandboxes, child processes.

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path

function Get-RebundleModulePath {
    if ($env:REBUNDLE_MODULE) { return $env:REBUNDLE_MODULE }
    Join-Path $script:RepoRoot 'out/Rebundle/Rebundle.psd1'
}

function Get-RepoRoot { $script:RepoRoot }

# A new, connected Sandbox in its own folder, fast enough for tests (delays in seconds).
function New-TestSandbox {
    param(
        [string] $Path = (Join-Path ([IO.Path]::GetTempPath()) ('rebundle-pester-' + [guid]::NewGuid().ToString('n'))),
        [double] $Delay = 0
    )
    $connection = Connect-TtmFleet -Sandbox -Path $Path -AuditLogPath (Join-Path $Path 'audit.log')
    $span = [TimeSpan]::FromSeconds($Delay)
    Set-TtmSandbox -BootDelay $span -ImageDelay $span -RespawnDelay $span -HealthDelay $span -DrainDelay $span
    [pscustomobject]@{ Path = $Path; StateFile = Join-Path $Path 'sandbox.json'; AuditLog = Join-Path $Path 'audit.log'; Connection = $connection }
}

function Get-FileHashText([string] $Path) { (Get-FileHash -Path $Path -Algorithm SHA256).Hash }

# The same PowerShell, in a child process (under `dotnet pwsh` the process itself is dotnet).
function Get-PwshCommand {
    $exe = (Get-Process -Id $PID).Path
    $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
    [pscustomobject]@{ Exe = $exe; Prefix = $prefix }
}

# Runs a script in a fresh, non-interactive PowerShell with the module imported; returns its output lines.
function Invoke-ChildRebundle {
    param([Parameter(Mandatory)] [string] $Script)
    $pwsh = Get-PwshCommand
    $full = "Import-Module '$(Get-RebundleModulePath)'; `$ErrorActionPreference = 'Continue'; $Script"
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($full))
    & $pwsh.Exe @($pwsh.Prefix) -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 | ForEach-Object { "$_" }
}

# Invoke-ChildRebundle without waiting: starts the child and returns at once, so independent
# children run side by side. Receive-ChildRebundleJob waits for them and returns their output lines
# (in the order the children were started); -ExitCode returns one object per child instead,
# with Lines, Text and ExitCode.
function Start-ChildRebundleJob {
    param([Parameter(Mandatory)] [string] $Script)
    $pwsh = Get-PwshCommand
    $full = "Import-Module '$(Get-RebundleModulePath)'; `$ErrorActionPreference = 'Continue'; $Script"
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($full))
    Start-ThreadJob -ThrottleLimit 16 -ArgumentList $pwsh.Exe, $pwsh.Prefix, $encoded -ScriptBlock {
        param($exe, $prefix, $encoded)
        $lines = @(& $exe @prefix -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 | ForEach-Object { "$_" })
        [pscustomobject]@{ Lines = $lines; ExitCode = $LASTEXITCODE; Text = $lines -join "`n" }
    }
}

function Receive-ChildRebundleJob {
    param(
        [Parameter(Mandatory, ValueFromPipeline)] $Child,
        [int] $TimeoutSeconds = 300,
        [switch] $ExitCode
    )
    begin { $children = [Collections.Generic.List[object]]::new() }
    process { $children.Add($Child) }
    end {
        $finished = @($children | Wait-Job -Timeout $TimeoutSeconds)
        if ($finished.Count -lt $children.Count) {
            $children | Stop-Job; $children | Remove-Job -Force
            throw "$($children.Count - $finished.Count) of $($children.Count) child processes did not finish within $TimeoutSeconds s."
        }
        foreach ($job in $children) {
            $run = $job | Receive-Job -Wait -AutoRemoveJob
            if ($ExitCode) { $run } else { $run.Lines }
        }
    }
}

# Invoke-NonInteractive without waiting, for children that may run side by side (refusals that
# change nothing); Receive-ChildRebundleJob -ExitCode returns what Invoke-NonInteractive does.
function Start-NonInteractive {
    param([Parameter(Mandatory)] $Fleet, [Parameter(Mandatory)] [string] $Script)
    Start-ChildRebundleJob "`$ErrorView = 'NormalView'; $($Fleet.Connect); $Script"
}

# A new folder under Pester's TestDrive (cleaned up with it), or under the temp folder outside Pester.
function New-TestFolder {
    $drive = Get-PSDrive TestDrive -ErrorAction Ignore
    $root = if ($drive) { $drive.Root } else { [IO.Path]::GetTempPath() }
    $folder = Join-Path $root ('rebundle-' + [guid]::NewGuid().ToString('n'))
    New-Item -ItemType Directory $folder | Out-Null
    $folder
}

# A fresh, fast fleet connected here, for tests that then act in a child process: the Sandbox, or
# the loopback EC2 endpoint (Ec2Endpoint.psm1 must be imported). Connect is the line that child
# runs to reach the same fleet; on EC2 "nothing changed" is read from Endpoint's request log.
function New-GuardedFleet {
    param(
        [ValidateSet('Sandbox', 'Aws')] [string] $Backend = 'Sandbox',
        [string] $ConfigurationPath,
        [string] $Folder = (New-TestFolder)
    )
    New-Item -ItemType Directory $Folder -Force | Out-Null
    $audit = Join-Path $Folder 'audit.log'
    $config = if ($ConfigurationPath) { " -ConfigurationPath '$ConfigurationPath'" } else { '' }
    $endpoint = $null
    if ($Backend -eq 'Sandbox') {
        $connect = "Connect-TtmFleet -Sandbox -Path '$Folder' -AuditLogPath '$audit'$config | Out-Null"
        Invoke-Expression $connect
        $zero = [TimeSpan]::Zero
        Set-TtmSandbox -BootDelay $zero -ImageDelay $zero -RespawnDelay ([TimeSpan]::FromSeconds(30))
    }
    else {
        $endpoint = Start-TestEc2Endpoint -BootSeconds 0.2 -ImageSeconds 0.2
        $connect = "Connect-TtmFleet -Aws -EndpointUrl '$($endpoint.Url)' -Region us-east-1 -PollInterval '0:0:0.2' -AuditLogPath '$audit'$config | Out-Null"
        Invoke-Expression $connect
    }
    $state = if ($Backend -eq 'Sandbox') { Join-Path $Folder 'sandbox.json' } else { $null }
    [pscustomobject]@{ Connect = $connect; Folder = $Folder; AuditLog = $audit; StateFile = $state; Endpoint = $endpoint }
}

# Runs a script in `pwsh -NonInteractive` after the fleet's Connect line; returns its lines, text and
# exit code. NormalView prints each error's FullyQualifiedErrorId (the concise view shows only
# messages); the script's own command comes last, so the exit code is the one pwsh gives it.
function Invoke-NonInteractive {
    param([Parameter(Mandatory)] $Fleet, [Parameter(Mandatory)] [string] $Script)
    $lines = Invoke-ChildRebundle "`$ErrorView = 'NormalView'; $($Fleet.Connect); $Script"
    [pscustomobject]@{ Lines = $lines; ExitCode = $LASTEXITCODE; Text = $lines -join "`n" }
}

# The session's fleet (Rebundle.Runbook.Fleet, internal to the module), for a test that stands in
# for another run: it holds leases and launches servers as that run would, with no cmdlet for it.
function Get-SessionFleet {
    $connection = Get-TtmFleet
    $connection.GetType().GetProperty('Fleet', [Reflection.BindingFlags]'NonPublic,Instance').GetValue($connection)
}

Export-ModuleMember -Function *
