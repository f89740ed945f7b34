# Shared by the Pester files: where the built module is, fresh Sandboxes, child processes.

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

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
    Set-TtmSandbox -BootDelay $span -ImageDelay $span -RespawnDelay $span
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

Export-ModuleMember -Function *
