#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests and demonstrates the Rebundle module.
.DESCRIPTION
    build  - compiles the solution and lays out an importable module at out/Rebundle/
    package - build, then out/Rebundle.<version>.nupkg, installable with Install-PSResource or
             Install-Module from a folder repository (PowerShell 7.4+: Compress-PSResource)
    test   - package, then every xunit project (tests/*.Tests) and every Pester file (tests/powershell),
             each in a process of its own, -Parallel at a time (one per core), longest first; prints a line per job
             as it finishes, the jobs by time and the ten slowest tests, and ends with the line
             "N passed, N failed, N skipped"; exits non-zero on any failure or on any skip whose
             reason does not name what the machine lacks ("needs sshd", ...).
             -Fast: the inner loop (no package or installs; no SSH, browser, help or import suites).
    bench  - build, then build/Measure-Recycle.ps1: recycle wall time against its physical limit,
             lockstep vs rolling window, one farm, two farms, 500 servers; import and first-command
             time (a couple of minutes; not part of test)
    demo   - build, then walks runbook steps 1 and 4-8 on a fresh Sandbox in a temporary folder
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 test
.EXAMPLE
    dotnet pwsh ./build.ps1 test -Fast -SkipXunit -PesterFilter 'Recycle*'
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'demo', 'package', 'bench')]
    [string] $Task = 'build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Run only the Pester files whose names match (e.g. 'Sandbox*'); xunit still runs unless -SkipXunit.
    [string] $PesterFilter = '*',

    [switch] $SkipXunit,

    [switch] $SkipPester,

    # The inner loop: build without packaging or installing, and leave out the suites that only the
    # outside world slows (SSH against a real sshd, the browser test, help, packaging, import).
    [switch] $Fast,

    # How many test jobs (xunit projects, Pester files) run at once, each in its own process. One per
    # core: at four on two cores the jobs ran three times slower each, and the SSH tests' stop-within-
    # seconds bounds failed on load rather than on Rebundle.
    [ValidateRange(1, 64)]
    [int] $Parallel = [Math]::Max(2, [Environment]::ProcessorCount)
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

# This PowerShell as a command line: under `dotnet pwsh` the process is dotnet itself, run with pwsh.dll.
function Get-ChildPwsh {
    $exe = (Get-Process -Id $PID).Path
    [pscustomobject]@{ Exe = $exe; Prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' }) }
}

# This PowerShell, again, in a child process.
function Invoke-ChildPwsh {
    $pwsh = Get-ChildPwsh
    $prefix = $pwsh.Prefix
    & $pwsh.Exe @prefix @args
}

function Get-RebundleVersion {
    [xml] $props = Get-Content (Join-Path $root 'Directory.Build.props')
    $props.Project.PropertyGroup.RebundleVersion | Where-Object { $_ } | Select-Object -First 1
}

function Invoke-Build {
    Write-Host "Building Rebundle ($Configuration)..." -ForegroundColor Cyan
    $publish = Join-Path $out 'publish'
    Invoke-Native 'dotnet publish' { dotnet publish (Join-Path $root 'src/Rebundle.PowerShell/Rebundle.PowerShell.csproj') -c $Configuration -o $publish --nologo -v quiet }

    $loader = Join-Path $out 'publish-loadcontext'
    Invoke-Native 'dotnet publish (load context)' { dotnet publish (Join-Path $root 'src/Rebundle.PowerShell.LoadContext/Rebundle.PowerShell.LoadContext.csproj') -c $Configuration -o $loader --nologo -v quiet }

    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    $dependencies = Join-Path $moduleOut 'dependencies'
    New-Item -ItemType Directory -Path $moduleOut, $dependencies | Out-Null
    # The cmdlets and the types they expose (Core's, Remote's) load as usual; every other dll (backends, AWSSDK.*,
    # SSH.NET and theirs) goes to dependencies/, which PowerShell 7 loads in the module's own
    # AssemblyLoadContext (docs/module.md). The host provides System.Management.Automation.
    $rootAssemblies = 'Rebundle.PowerShell.dll', 'Rebundle.Core.dll', 'Rebundle.Remote.dll'
    foreach ($dll in Get-ChildItem $publish -Filter *.dll | Where-Object Name -ne 'System.Management.Automation.dll') {
        Copy-Item $dll.FullName -Destination $(if ($dll.Name -in $rootAssemblies) { $moduleOut } else { $dependencies })
    }
    Copy-Item (Join-Path $loader 'Rebundle.PowerShell.LoadContext.dll') -Destination $moduleOut
    Copy-Item (Join-Path $root 'module/*') -Destination $moduleOut -Recurse

    $manifest = Join-Path $moduleOut 'Rebundle.psd1'
    $version = Get-RebundleVersion
    (Get-Content $manifest -Raw) -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$version'" |
        Set-Content $manifest -NoNewline
    # Exports from the assembly, help from docs/help: both need the cmdlets loaded, so a child process.
    Invoke-Native 'Exports and help' {
        Invoke-ChildPwsh -NoProfile -NonInteractive -File (Join-Path $root 'build/Complete-ModuleLayout.ps1') -ModuleFolder $moduleOut -HelpSource (Join-Path $root 'docs/help') | Out-Host
    }
    Write-Host "Module $version at $moduleOut" -ForegroundColor Green
}

function Invoke-Package {
    Invoke-Build
    $version = Get-RebundleVersion
    $package = Join-Path $out "Rebundle.$version.nupkg"
    Remove-Item $package -ErrorAction SilentlyContinue
    if (-not (Get-Command Compress-PSResource -ErrorAction SilentlyContinue)) {
        throw 'Packaging needs Compress-PSResource (Microsoft.PowerShell.PSResourceGet 1.1 or later, part of PowerShell 7.4+).'
    }
    # The same .nupkg Publish-PSResource would push: nuspec from the manifest, the module at the root.
    Compress-PSResource -Path $moduleOut -DestinationPath $out
    if (-not (Test-Path $package)) { throw "Compress-PSResource did not write $package." }
    Write-Host "Package $package" -ForegroundColor Green
}

function Get-Pester {
    $packages = Join-Path $root '.tools/packages'
    $psd1 = Get-ChildItem (Join-Path $packages 'pester') -Filter Pester.psd1 -Recurse -ErrorAction SilentlyContinue | Select-Object -First 1
    # Restored again whenever build/Tools.proj changes (a stamp per version of the file).
    $tools = Join-Path $root 'build/Tools.proj'
    $stamp = Join-Path $packages ('.restored-' + (Get-FileHash $tools).Hash.Substring(0, 16))
    if (-not $psd1 -or -not (Test-Path $stamp)) {
        Write-Host 'Restoring the test tools (build/Tools.proj) from NuGet...' -ForegroundColor Cyan
        Invoke-Native 'Test tools restore' { dotnet restore $tools --packages $packages --nologo -v quiet }
        New-Item -ItemType File -Force -Path $stamp | Out-Null
        $psd1 = Get-ChildItem (Join-Path $packages 'pester') -Filter Pester.psd1 -Recurse | Select-Object -First 1
    }
    $psd1.FullName
}

# A skip is honest only when its reason names what this machine lacks ("needs sshd",
# "requires Linux", "openssh-server not installed"); any other skip hides a test and fails the run.
$script:SkipReasonPattern = '\b(needs?|requires?|missing|lacks?|not (installed|found|available|supported))\b'

# The jobs of a test run: every xunit project (built once, then run with --no-build) and every Pester
# file, each in a process of its own (build/TestQueue.psm1). -Fast leaves out what only the outside
# world slows: the SSH suites (a real sshd), the browser test, help, packaging and import checks.
function Get-TestJobs {
    $results = Join-Path $out 'test-results'
    $logs = Join-Path $out 'test-logs'
    $audits = Join-Path $out 'test-audit'
    New-Item -ItemType Directory -Force -Path $results, $logs, $audits | Out-Null
    $slowOutside = 'Rebundle.Ssh.Tests', 'Ssh', 'SshStop', 'FleetReport', 'Help', 'Package', 'ImportSpeed'
    if (-not $SkipXunit) {
        foreach ($project in Get-ChildItem (Join-Path $root 'tests') -Filter *.csproj -Recurse | Where-Object { $_.Directory.Name -like '*.Tests' }) {
            if ($Fast -and $project.BaseName -in $slowOutside) { continue }
            $trx = "$($project.BaseName).trx"
            New-TestJob -Name "xunit $($project.BaseName)" -Kind xunit -Exe dotnet -ResultPath (Join-Path $results $trx) `
                -LogPath (Join-Path $logs "$($project.BaseName).log") -Arguments @(
                'test', $project.FullName, '-c', $Configuration, '--no-build', '--nologo',
                '--logger', "trx;LogFileName=$trx", '--logger', 'console;verbosity=minimal', '--results-directory', $results)
        }
    }
    if (-not $SkipPester) {
        $pester = Get-Pester
        $pwsh = Get-ChildPwsh
        foreach ($file in Get-ChildItem (Join-Path $root 'tests/powershell') -Filter "$PesterFilter.Tests.ps1") {
            $name = $file.Name -replace '\.Tests\.ps1$'
            # A file named in -PesterFilter runs even under -Fast: it was asked for.
            if ($Fast -and $PesterFilter -eq '*' -and $name -in $slowOutside) { continue }
            New-TestJob -Name "Pester $($file.Name)" -Kind pester -Exe $pwsh.Exe -ResultPath (Join-Path $results "$name.pester.json") `
                -LogPath (Join-Path $logs "$name.pester.log") -Arguments @(
                $pwsh.Prefix + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $root 'build/Invoke-PesterFile.ps1'),
                    '-Pester', $pester, '-Path', $file.FullName, '-ResultPath', (Join-Path $results "$name.pester.json"))) `
                -Environment @{
                    REBUNDLE_MODULE = Join-Path $moduleOut 'Rebundle.psd1'
                    # Tests that do not choose an audit log must not write into the user's profile, nor into each other's.
                    REBUNDLE_AUDIT_LOG = Join-Path $audits "$name.log"
                }
        }
    }
}

# Runs the queue and adds it up: one line per job as it finishes, the ten slowest tests at the end.
function Invoke-TestQueue {
    Import-Module (Join-Path $root 'build/TestQueue.psm1') -Force
    $jobs = @(Get-TestJobs)
    if ($jobs.Count -eq 0) { throw "No test matches: no xunit project, and no Pester file '$PesterFilter.Tests.ps1' in tests/powershell." }
    $timesFile = Join-Path $out 'test-times.json'
    $lastSeconds = @{}
    $known = if (Test-Path $timesFile) { $timesFile } else { Join-Path $root 'build/test-times.json' }
    if (Test-Path $known) { (Get-Content $known -Raw | ConvertFrom-Json).PSObject.Properties | ForEach-Object { $lastSeconds[$_.Name] = $_.Value } }

    Write-Host "Running $($jobs.Count) test jobs, $Parallel at a time (logs in $(Join-Path $out 'test-logs'))..." -ForegroundColor Cyan
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $results = @(Invoke-TestJobs -Jobs $jobs -Parallel $Parallel -LastSeconds $lastSeconds | ForEach-Object {
        $result = Read-TestJobResult $_
        Write-TestJobLine $result
        $result
    })
    foreach ($result in $results) { $lastSeconds[$result.Job.Name] = [Math]::Round($result.Seconds, 1) }
    $lastSeconds | ConvertTo-Json | Set-Content $timesFile
    Write-TestTimes $results
    Write-Host ('Test jobs took {0:0} s of wall time ({1:0} s if run one after another).' -f $watch.Elapsed.TotalSeconds, ($results | Measure-Object Seconds -Sum).Sum) -ForegroundColor Cyan
    $tests = @($results.Tests)
    [pscustomobject]@{
        Passed = @($tests | Where-Object Result -eq 'Passed').Count
        Failed = @($tests | Where-Object Result -eq 'Failed').Count
        Skips  = @($tests | Where-Object Result -eq 'Skipped' | ForEach-Object {
            [pscustomobject]@{ Test = "$($_.Suite): $($_.Name)"; Reason = $_.Message; Honest = $_.Message -match $script:SkipReasonPattern }
        })
    }
}

# Every skip, with its reason; a skip that does not say what the machine lacks fails the run.
function Write-Skips {
    param($Skips)
    foreach ($skip in $Skips) {
        $reason = if ($skip.Reason) { $skip.Reason } else { '(no reason given)' }
        if ($skip.Honest) { Write-Host "skipped: $($skip.Test): $reason" -ForegroundColor Yellow }
        else { Write-Host "skipped without naming what the machine lacks: $($skip.Test): $reason" -ForegroundColor Red }
    }
}

# What the tests talk to for real: an OpenSSH server (started on loopback by the SSH fixtures)
# and Chromium (the fleet report's page is rendered in it). Installed when missing, so the
# README's test command works on a fresh Debian machine.
function Install-AptPackages([string[]] $Packages, [string] $Why) {
    $root = (id -u) -eq '0'
    $sudo = if (-not $root -and (Get-Command sudo -ErrorAction SilentlyContinue)) { 'sudo' }
    if ((Get-Command apt-get -ErrorAction SilentlyContinue) -and ($root -or $sudo)) {
        Write-Host "Installing $($Packages -join ', ') for $Why (apt-get)..." -ForegroundColor Cyan
        $env:DEBIAN_FRONTEND = 'noninteractive'
        if ($sudo) { & $sudo apt-get update -qq; & $sudo apt-get install -y -qq @Packages | Out-Null }
        else { apt-get update -qq; apt-get install -y -qq @Packages | Out-Null }
    }
}

function Install-TestPrerequisites {
    if (-not $IsLinux) { return }
    if (-not (Test-Path /usr/sbin/sshd)) { Install-AptPackages openssh-server, openssh-client 'the SSH tests' }
    if (-not (Test-Path /usr/sbin/sshd)) {
        # Stop before running anything: a run without it would fail dozens of tests for one reason.
        Write-Host 'The SSH tests need an OpenSSH server at /usr/sbin/sshd: install the openssh-server package (e.g. sudo apt-get install openssh-server), then run the tests again.' -ForegroundColor Red
        exit 1
    }
    if (-not (Get-Command chromium -ErrorAction SilentlyContinue)) { Install-AptPackages chromium 'the fleet report browser test' }
    if (-not (Get-Command chromium -ErrorAction SilentlyContinue)) {
        Write-Host 'The fleet report test renders its page in Chromium: install the chromium package (e.g. sudo apt-get install chromium), then run the tests again.' -ForegroundColor Red
        exit 1
    }
}

function Invoke-Test {
    if ($Fast) { Invoke-Build } else { Install-TestPrerequisites; Invoke-Package }
    if (-not $SkipXunit) {
        # Once for every project, so the jobs can run side by side without building over each other.
        Write-Host "Building the test projects ($Configuration)..." -ForegroundColor Cyan
        Invoke-Native 'dotnet build' { dotnet build (Join-Path $root 'Rebundle.sln') -c $Configuration --nologo -v quiet }
    }
    $run = Invoke-TestQueue
    Write-Skips $run.Skips
    "$($run.Passed) passed, $($run.Failed) failed, $(@($run.Skips).Count) skipped"
    if ($run.Failed -gt 0 -or @($run.Skips | Where-Object { -not $_.Honest }).Count -gt 0) { exit 1 }
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
    'package' { Invoke-Package }
    'bench' {
        Invoke-Build
        Invoke-ChildPwsh -NoProfile -File (Join-Path $root 'build/Measure-Recycle.ps1') -ModulePath (Join-Path $moduleOut 'Rebundle.psd1')
        if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    }
}
