<#
.SYNOPSIS
    How much importing Rebundle adds to starting PowerShell: the median over several runs of
    `pwsh -NoProfile` starting and exiting, against starting, importing the module and exiting.
.DESCRIPTION
    Bare and importing runs alternate, after one warm-up of each, so disk caches and machine
    load affect both alike. Also reports the median time of Import-Module itself, measured
    inside the child process (no process start in it), and which of the module's dependencies
    the import loaded (it should load none: they load when a cmdlet needs them).
.EXAMPLE
    ./build/Measure-ImportTime.ps1 -Runs 15
.EXAMPLE
    ./build/Measure-ImportTime.ps1 -Runs 3 -ModulePath ./out/Rebundle/Rebundle.psd1 | Format-List
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 100)]
    [int] $Runs = 10,

    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Rebundle/Rebundle.psd1')
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ModulePath = (Resolve-Path $ModulePath).Path

# This PowerShell again (under `dotnet pwsh` the process is dotnet itself, plus pwsh.dll).
$exe = (Get-Process -Id $PID).Path
$prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })

function Measure-Start([string] $Command) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $output = & $exe @prefix -NoProfile -NonInteractive -Command $Command
    $watch.Stop()
    if ($LASTEXITCODE -ne 0) { throw "pwsh -Command '$Command' failed: $output" }
    [pscustomobject]@{ Ms = $watch.Elapsed.TotalMilliseconds; Output = $output }
}

function Get-Median([double[]] $Values) {
    $sorted = $Values | Sort-Object
    $middle = [int][Math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { $sorted[$middle] } else { ($sorted[$middle - 1] + $sorted[$middle]) / 2 }
}

$dependencies = Join-Path (Split-Path $ModulePath) 'dependencies'
$import = @"
`$watch = [Diagnostics.Stopwatch]::StartNew()
Import-Module '$ModulePath'
`$watch.Stop()
'IMPORT-MS ' + `$watch.Elapsed.TotalMilliseconds.ToString([cultureinfo]::InvariantCulture)
[AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { -not `$_.IsDynamic -and `$_.Location -like '$dependencies*' } | ForEach-Object { 'LOADED ' + `$_.GetName().Name }
"@

Measure-Start 'exit' | Out-Null
Measure-Start $import | Out-Null
$bare = @(); $withModule = @(); $inProcess = @(); $loaded = @()
for ($run = 1; $run -le $Runs; $run++) {
    $bare += (Measure-Start 'exit').Ms
    $result = Measure-Start $import
    $withModule += $result.Ms
    $inProcess += [double]::Parse((($result.Output | Where-Object { $_ -like 'IMPORT-MS *' }) -replace 'IMPORT-MS '), [cultureinfo]::InvariantCulture)
    $loaded += @($result.Output | Where-Object { $_ -like 'LOADED *' } | ForEach-Object { $_ -replace 'LOADED ' })
}

$bareMs = Get-Median $bare
$importMs = Get-Median $withModule
[pscustomobject]@{
    Runs                  = $Runs
    BareStartMs           = [Math]::Round($bareMs)
    StartWithImportMs     = [Math]::Round($importMs)
    ImportOverheadMs      = [Math]::Round($importMs - $bareMs)
    ImportModuleMs        = [Math]::Round((Get-Median $inProcess))
    DependenciesAtImport  = @($loaded | Sort-Object -Unique)
}
