<#
.SYNOPSIS
    build.ps1 bench: how close a recycle comes to its physical limit, lockstep against the rolling
    window, on the Sandbox with a seeded boot spread; then module import and first-command time.
.DESCRIPTION
    Each scenario runs on a fresh Sandbox in a temporary folder, once lockstep (the old batches,
    farms one after another) and once rolling (the window; two farms side by side). The same
    seed draws the same boot times for the same number of launches, so both face the same boots.
    The limit is what no schedule of those boot times with at most B in flight per farm can beat:
    the longest boot, or the total boot time over B, whichever is larger (for equal boots,
    ceil(n/B) boots); for two farms side by side, the slower farm's. Not a test: numbers only.
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Rebundle/Rebundle.psd1'),
    [ValidateRange(1, 50)]
    [int] $ImportRuns = 9
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ModulePath = (Resolve-Path $ModulePath).Path
Import-Module $ModulePath -Force

# Boot seconds of every server launched after $Since, by farm (read back from the Sandbox file).
function Get-BootTimes([string] $Folder, [datetimeoffset] $Since) {
    $state = Get-Content (Join-Path $Folder 'sandbox.json') -Raw | ConvertFrom-Json
    $farmOf = @{}
    foreach ($farmRole in $state.FarmRoles) { $farmOf[$farmRole.Id] = ($state.Farms | Where-Object Id -eq $farmRole.FarmId).Name }
    $state.Servers | Where-Object { $_.BootedAt -and ([datetimeoffset]$_.LaunchedAt) -ge $Since } | ForEach-Object {
        [pscustomobject]@{ Farm = $farmOf[$_.FarmRoleId]; Seconds = (([datetimeoffset]$_.BootedAt) - ([datetimeoffset]$_.LaunchedAt)).TotalSeconds }
    }
}

function Get-Limit([double[]] $Boots, [int] $Batch) {
    $max = ($Boots | Measure-Object -Maximum).Maximum
    $sum = ($Boots | Measure-Object -Sum).Sum
    if (@($Boots | Sort-Object -Unique).Count -eq 1) { return [Math]::Ceiling($Boots.Count / $Batch) * $max }
    [Math]::Max($max, $sum / $Batch)
}

function Measure-Scenario([string] $Name, [string[]] $Farms, [int] $Batch, [double] $Boot, [double] $Spread, [hashtable] $Scale, [switch] $Lockstep) {
    $folder = Join-Path ([IO.Path]::GetTempPath()) ('rebundle-bench-' + [guid]::NewGuid().ToString('n'))
    try {
        Connect-TtmFleet -Sandbox -Path $folder -AuditLogPath (Join-Path $folder 'audit.log') | Out-Null
        if ($Scale) { Set-TtmSandbox -Scale $Scale }
        Set-TtmSandbox -BootDelay ([timespan]::FromSeconds($Boot)) -BootSpread ([timespan]::FromSeconds($Spread)) -BootSeed 42 -RespawnDelay '1:00:00'
        $since = [datetimeoffset]::UtcNow
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $recycled = @(Invoke-TtmRecycle -Farm $Farms -BatchSize $Batch -Force -Lockstep:$Lockstep -SideBySide:(-not $Lockstep -and $Farms.Count -gt 1))
        $watch.Stop()
        $boots = @(Get-BootTimes $folder $since)
        $limit = ($Farms | ForEach-Object { Get-Limit @($boots | Where-Object Farm -eq $_ | ForEach-Object Seconds) $Batch } | Measure-Object -Maximum).Maximum
        [pscustomobject]@{
            Scenario = $Name
            Mode     = if ($Lockstep) { 'lockstep' } else { 'rolling' }
            Servers  = $recycled.Count
            WallS    = [Math]::Round($watch.Elapsed.TotalSeconds, 2)
            LimitS   = [Math]::Round($limit, 2)
            Ratio    = [Math]::Round($watch.Elapsed.TotalSeconds / $limit, 2)
        }
    }
    finally {
        Remove-Item $folder -Recurse -Force -ErrorAction SilentlyContinue
    }
}

$scenarios = @(
    @{ Name = 'one farm (Production 7, B=3, boot 2-6 s)'; Farms = @('Production'); Batch = 3; Boot = 2; Spread = 4 }
    @{ Name = 'two farms (Production 7 + Dev 6, B=3, boot 2-6 s)'; Farms = @('Production', 'Dev'); Batch = 3; Boot = 2; Spread = 4 }
    @{ Name = 'at scale (Production 500, B=100, boot 1 s)'; Farms = @('Production'); Batch = 100; Boot = 1; Spread = 0; Scale = @{ 'Production/RailsAppServer' = 495 } }
)
$rows = foreach ($s in $scenarios) {
    foreach ($lockstep in $true, $false) { Measure-Scenario @s -Lockstep:$lockstep }
}
$rows | Format-Table -AutoSize | Out-String -Width 200

# Import over a bare start (alternating runs), and the first command: import + connect + Get-TtmServer.
$import = & (Join-Path $PSScriptRoot 'Measure-ImportTime.ps1') -Runs $ImportRuns -ModulePath $ModulePath
$exe = (Get-Process -Id $PID).Path
$prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
$folder = Join-Path ([IO.Path]::GetTempPath()) ('rebundle-bench-' + [guid]::NewGuid().ToString('n'))
$first = "Import-Module '$ModulePath'; Connect-TtmFleet -Sandbox -Path '$folder' -AuditLogPath '$folder/audit.log' | Out-Null; Get-TtmServer -Farm Dev | Out-Null"
& $exe @prefix -NoProfile -NonInteractive -Command $first | Out-Null # seeds the Sandbox once
$bare = @(); $firstCommand = @()
for ($i = 0; $i -lt $ImportRuns; $i++) {
    $w = [Diagnostics.Stopwatch]::StartNew(); & $exe @prefix -NoProfile -NonInteractive -Command 'exit' | Out-Null; $bare += $w.Elapsed.TotalMilliseconds
    $w = [Diagnostics.Stopwatch]::StartNew(); & $exe @prefix -NoProfile -NonInteractive -Command $first | Out-Null; $firstCommand += $w.Elapsed.TotalMilliseconds
}
Remove-Item $folder -Recurse -Force -ErrorAction SilentlyContinue
$median = { param($v) $s = $v | Sort-Object; $s[[int][Math]::Floor($s.Count / 2)] }
[pscustomobject]@{
    BareStartMs          = $import.BareStartMs
    ImportOverheadMs     = $import.ImportOverheadMs
    FirstCommandOverMs   = [Math]::Round((& $median $firstCommand) - (& $median $bare))
    Machine              = "$([Environment]::ProcessorCount) cores, $([Runtime.InteropServices.RuntimeInformation]::OSDescription), PowerShell $($PSVersionTable.PSVersion)"
} | Format-List | Out-String
