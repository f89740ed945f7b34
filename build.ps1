#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests and demonstrates the Rebundle module.
.DESCRIPTION
    build  - compiles the solution and lays out an importable module at out/Rebundle/
    test   - build, then every xunit project (tests/*.Tests) and every Pester file (tests/pester);
             ends with the line "N passed, N failed" and exits non-zero on any failure
    demo   - build, then walks runbook steps 1 and 4-8 on a fresh Sandbox in a temporary folder
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'demo')]
    [string] $Task = 'build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Run only the Pester files whose names match (e.g. 'Sandbox*'); xunit still runs unless -SkipXunit.
    [string] $PesterFilter = '*',

    [switch] $SkipXunit,

    [switch] $SkipPester
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$out = Join-Path $root 'out'
$moduleOut = Join-Path $out 'Rebundle'

function Invoke-Native {
    param([string] $What, [scriptblock] $Command)
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)." }
}

# This PowerShell, again, in a child process (under `dotnet pwsh` the process is dotnet itself).
function Invoke-ChildPwsh {
    $exe = (Get-Process -Id $PID).Path
    $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
    & $exe @prefix @args
}

function Get-RebundleVersion {
    [xml] $props = Get-Content (Join-Path $root 'Directory.Build.props')
    $props.Project.PropertyGroup.RebundleVersion | Where-Object { $_ } | Select-Object -First 1
}

function Invoke-Build {
    Write-Host "Building Rebundle ($Configuration)..." -ForegroundColor Cyan
    $publish = Join-Path $out 'publish'
    Invoke-Native 'dotnet publish' { dotnet publish (Join-Path $root 'src/Rebundle.PowerShell/Rebundle.PowerShell.csproj') -c $Configuration -o $publish --nologo -v quiet }

    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    New-Item -ItemType Directory -Path $moduleOut | Out-Null
    # The host provides System.Management.Automation; everything else the cmdlets need ships.
    Get-ChildItem $publish -Filter *.dll |
        Where-Object Name -ne 'System.Management.Automation.dll' |
        Copy-Item -Destination $moduleOut
    Copy-Item (Join-Path $root 'module/*') -Destination $moduleOut -Recurse

    $manifest = Join-Path $moduleOut 'Rebundle.psd1'
    $version = Get-RebundleVersion
    (Get-Content $manifest -Raw) -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$version'" |
        Set-Content $manifest -NoNewline
    Write-Host "Module $version at $moduleOut" -ForegroundColor Green
}

function Get-Pester {
    $packages = Join-Path $root '.tools/packages'
    $psd1 = Get-ChildItem (Join-Path $packages 'pester') -Filter Pester.psd1 -Recurse -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $psd1) {
        Write-Host 'Restoring Pester from NuGet...' -ForegroundColor Cyan
        Invoke-Native 'Pester restore' { dotnet restore (Join-Path $root 'build/Tools.proj') --packages $packages --nologo -v quiet }
        $psd1 = Get-ChildItem (Join-Path $packages 'pester') -Filter Pester.psd1 -Recurse | Select-Object -First 1
    }
    $psd1.FullName
}

function Invoke-Xunit {
    $totals = @{ Passed = 0; Failed = 0 }
    $results = Join-Path $out 'test-results'
    foreach ($project in Get-ChildItem (Join-Path $root 'tests') -Filter *.csproj -Recurse | Where-Object { $_.Directory.Name -like '*.Tests' }) {
        Write-Host "xunit: $($project.BaseName)" -ForegroundColor Cyan
        $trx = "$($project.BaseName).trx"
        Remove-Item (Join-Path $results $trx) -ErrorAction SilentlyContinue
        dotnet test $project.FullName -c $Configuration --nologo --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal' --results-directory $results | Out-Host
        $file = Join-Path $results $trx
        if (-not (Test-Path $file)) {
            Write-Host "  no results from $($project.BaseName): counted as one failure" -ForegroundColor Red
            $totals.Failed++
            continue
        }
        $counters = ([xml] (Get-Content $file -Raw)).TestRun.ResultSummary.Counters
        $totals.Passed += [int] $counters.passed
        $totals.Failed += [int] $counters.failed + [int] $counters.error + [int] $counters.timeout + [int] $counters.aborted
    }
    $totals
}

function Invoke-PesterTests {
    $pester = Get-Pester
    # A separate process: the tests import the freshly built module and leave this one clean.
    $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$pester'
`$config = New-PesterConfiguration
`$config.Run.Path = (Get-ChildItem '$(Join-Path $root 'tests/pester')' -Filter '$PesterFilter.Tests.ps1').FullName
`$config.Run.PassThru = `$true
`$config.Output.Verbosity = 'Normal'
`$result = Invoke-Pester -Configuration `$config
'PESTER-TOTALS {0} {1}' -f `$result.PassedCount, (`$result.FailedCount + `$result.FailedBlocksCount + `$result.FailedContainersCount)
"@
    $env:REBUNDLE_MODULE = Join-Path $moduleOut 'Rebundle.psd1'
    # Tests that do not choose an audit log must not write into the user's profile.
    $env:REBUNDLE_AUDIT_LOG = Join-Path $out 'test-audit.log'
    $totals = @{ Passed = 0; Failed = 1 }
    Invoke-ChildPwsh -NoProfile -NonInteractive -Command $script | ForEach-Object {
        if ($_ -match '^PESTER-TOTALS (\d+) (\d+)$') { $totals = @{ Passed = [int] $Matches[1]; Failed = [int] $Matches[2] } }
        else { Write-Host $_ }
    }
    $totals
}

function Invoke-Test {
    Invoke-Build
    $passed = 0; $failed = 0
    if (-not $SkipXunit) {
        $x = Invoke-Xunit
        $passed += $x.Passed; $failed += $x.Failed
        Write-Host "xunit: $($x.Passed) passed, $($x.Failed) failed" -ForegroundColor Cyan
    }
    if (-not $SkipPester) {
        $p = Invoke-PesterTests
        $passed += $p.Passed; $failed += $p.Failed
        Write-Host "Pester: $($p.Passed) passed, $($p.Failed) failed" -ForegroundColor Cyan
    }
    "$passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    $demo = Join-Path $root 'module/Examples/Invoke-RebundleDemo.ps1'
    Invoke-ChildPwsh -NoProfile -File $demo -ModulePath (Join-Path $moduleOut 'Rebundle.psd1')
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

switch ($Task) {
    'build' { Invoke-Build }
    'test' { Invoke-Test }
    'demo' { Invoke-Demo }
}
