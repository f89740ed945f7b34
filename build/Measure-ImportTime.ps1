<#
.SYNOPSIS
    How much importing Rebundle adds to starting PowerShell: the median over several runs of
    `pwsh -NoProfile` starting and exiting, against starting, importing the module and exiting.
.DESCRIPTION
    Bare and importing runs alternate, after one warm-up of each, so disk caches and machine
    load affect both alike. Also reports the median time of Import-Module itself, measured
    inside the child process (no process start in it), and which of the module's dependencies
    the import loaded (it should load none: they load when a cmdlet needs them).

    -CompareWithEmptyModule measures, the same way, a manifest module with one empty binary
    cmdlet, compiled on the spot: the floor every binary module pays on this machine, so the
    part that is Rebundle's own can be told from PowerShell's.
.EXAMPLE
    ./build/Measure-ImportTime.ps1 -Runs 15
.EXAMPLE
    ./build/Measure-ImportTime.ps1 -Runs 3 -ModulePath ./out/Rebundle/Rebundle.psd1 | Format-List
.EXAMPLE
    ./build/Measure-ImportTime.ps1 -Runs 9 -CompareWithEmptyModule
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 100)]
    [int] $Runs = 10,

    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Rebundle/Rebundle.psd1'),

    [switch] $CompareWithEmptyModule
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ModulePath = (Resolve-Path $ModulePath).Path

# This PowerShell again (under `dotnet pwsh` the process is dotnet itself, plus pwsh.dll).
$exe = (Get-Process -Id $PID).Path
$prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })

function Measure-Start([string] $Command) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $output = & $exe @prefix -NoProfile -NonInteractive -Command $Command 2>&1
    $watch.Stop()
    if ($LASTEXITCODE -ne 0) { throw "pwsh -Command '$Command' failed: $output" }
    [pscustomobject]@{ Ms = $watch.Elapsed.TotalMilliseconds; Output = $output }
}

function Get-Median([double[]] $Values) {
    $sorted = $Values | Sort-Object
    $middle = [int][Math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { $sorted[$middle] } else { ($sorted[$middle - 1] + $sorted[$middle]) / 2 }
}

function Get-ImportScript([string] $Path) {
    $dependencies = Join-Path (Split-Path $Path) 'dependencies'
    @"
`$ErrorActionPreference = 'Stop'
`$watch = [Diagnostics.Stopwatch]::StartNew()
Import-Module '$Path'
`$watch.Stop()
'IMPORT-MS ' + `$watch.Elapsed.TotalMilliseconds.ToString([cultureinfo]::InvariantCulture)
[AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { -not `$_.IsDynamic -and `$_.Location -like '$dependencies*' } | ForEach-Object { 'LOADED ' + `$_.GetName().Name }
"@
}

# Bare starts and each module's imports take turns within every run, so a burst of load
# on a shared machine hits them alike.
function Measure-Modules([string[]] $Paths) {
    $scripts = @($Paths | ForEach-Object { Get-ImportScript $_ })
    Measure-Start 'exit' | Out-Null
    foreach ($script in $scripts) { Measure-Start $script | Out-Null }
    $bare = @()
    $samples = @($Paths | ForEach-Object { [pscustomobject]@{ Start = @(); InProcess = @(); Loaded = @() } })
    for ($run = 1; $run -le $Runs; $run++) {
        $bare += (Measure-Start 'exit').Ms
        for ($i = 0; $i -lt $scripts.Count; $i++) {
            $result = Measure-Start $scripts[$i]
            $samples[$i].Start += $result.Ms
            $samples[$i].InProcess += [double]::Parse((($result.Output | Where-Object { "$_" -like 'IMPORT-MS *' }) -replace 'IMPORT-MS '), [cultureinfo]::InvariantCulture)
            $samples[$i].Loaded += @($result.Output | Where-Object { "$_" -like 'LOADED *' } | ForEach-Object { "$_" -replace 'LOADED ' })
        }
    }
    $bareMs = Get-Median $bare
    foreach ($sample in $samples) {
        $importMs = Get-Median $sample.Start
        [pscustomobject]@{
            BareStartMs          = [Math]::Round($bareMs)
            StartWithImportMs    = [Math]::Round($importMs)
            ImportOverheadMs     = [Math]::Round($importMs - $bareMs)
            ImportModuleMs       = [Math]::Round((Get-Median $sample.InProcess))
            DependenciesAtImport = @($sample.Loaded | Sort-Object -Unique)
        }
    }
}

# A manifest module with one empty cmdlet, compiled in a child process (this one stays clean).
function New-EmptyModule {
    $folder = Join-Path ([IO.Path]::GetTempPath()) ('rebundle-empty-module-' + [guid]::NewGuid().ToString('n'))
    New-Item -ItemType Directory $folder | Out-Null
    $source = Join-Path $folder 'Empty.cs'
    'using System.Management.Automation; [Cmdlet(VerbsCommon.Get, "EmptyThing")] public class GetEmptyThing : PSCmdlet { }' | Set-Content $source
    $compiled = & $exe @prefix -NoProfile -NonInteractive -Command "Add-Type -Path '$source' -OutputAssembly '$folder/Empty.dll'; 'COMPILED'"
    if ($compiled -notcontains 'COMPILED') { throw "Compiling the empty module failed: $compiled" }
    "@{ RootModule = 'Empty.dll'; ModuleVersion = '1.0.0'; GUID = '$([guid]::NewGuid())'; CmdletsToExport = @('Get-EmptyThing'); FunctionsToExport = @(); AliasesToExport = @(); VariablesToExport = @() }" |
        Set-Content (Join-Path $folder 'Empty.psd1')
    Join-Path $folder 'Empty.psd1'
}

$empty = if ($CompareWithEmptyModule) { New-EmptyModule }
try {
    $measured = @(Measure-Modules @(@($ModulePath) + @($empty | Where-Object { $_ })))
}
finally { if ($empty) { Remove-Item (Split-Path $empty) -Recurse -Force -ErrorAction SilentlyContinue } }
$result = [ordered]@{ Runs = $Runs }
foreach ($property in $measured[0].PSObject.Properties) { $result[$property.Name] = $property.Value }
if ($empty) {
    $result.EmptyModuleOverheadMs = $measured[1].ImportOverheadMs
    $result.EmptyModuleImportMs = $measured[1].ImportModuleMs
}
[pscustomobject]$result
