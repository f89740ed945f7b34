<#
.SYNOPSIS
    Rehearses the rebundle runbook (steps 1 and 4-8) on a fresh Sandbox fleet.
.DESCRIPTION
    Connects a new Sandbox in a temporary folder, shows the farm roles and roles, walks the
    runbook with the Rebundle cmdlets, shows them again, and removes the folder. Nothing
    outside that folder is touched. Takes well under a minute.
.EXAMPLE
    ./Invoke-RebundleDemo.ps1
.EXAMPLE
    ./Invoke-RebundleDemo.ps1 -KeepSandbox   # leave the Sandbox folder to explore afterwards
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../Rebundle.psd1'),
    [switch] $KeepSandbox
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force

function Write-Step([string] $Title, [string] $Command) {
    Write-Host ''
    Write-Host "== $Title" -ForegroundColor Cyan
    if ($Command) { Write-Host "   PS> $Command" -ForegroundColor DarkGray }
}

function Show-Fleet([string] $Title) {
    Write-Step $Title
    Get-TtmFarmRole | Format-Table -GroupBy Farm | Out-Host
    Get-TtmRole -IncludeVersions | Where-Object { -not $_.IsVersioned -or $_.Version.Minor -ge 6 } | Format-Table | Out-Host
}

$sandbox = Join-Path ([IO.Path]::GetTempPath()) ('rebundle-demo-' + [guid]::NewGuid().ToString('n').Substring(0, 8))
# The report pages outlive the Sandbox folder, so they can be opened after the demo.
$before = Join-Path ([IO.Path]::GetTempPath()) ((Split-Path $sandbox -Leaf) + '-report-before.html')
$after = Join-Path ([IO.Path]::GetTempPath()) ((Split-Path $sandbox -Leaf) + '-report-after.html')
$clock = [Diagnostics.Stopwatch]::StartNew()
try {
    Write-Step 'Connect a fresh Sandbox fleet' "Connect-TtmFleet -Sandbox -Path $sandbox"
    Connect-TtmFleet -Sandbox -Path $sandbox -AuditLogPath (Join-Path $sandbox 'audit.log') | Out-Host
    # Rehearsal speed: servers boot and images finish in a second; the web roles' load balancer
    # takes a second to call a server healthy and drains a deregistered one for a second.
    Set-TtmSandbox -BootDelay '0:0:1' -ImageDelay '0:0:1' -RespawnDelay '0:0:1' -HealthDelay '0:0:1' -DrainDelay '0:0:1'

    Show-Fleet 'Before: farm roles and roles'

    Write-Step 'Step 1: patch the base image and replace TTM-Base''s image' `
        'Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base | New-TtmRoleSnapshot -ReplaceImage'
    Write-Host '   (Update-TtmServerOs -Reboot patches it over SSH first; the Sandbox has no SSH servers.)' -ForegroundColor DarkGray
    Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base | New-TtmRoleSnapshot -ReplaceImage | Format-Table | Out-Host

    Write-Step 'Step 4: recycle the staging farm so every role boots the new base image and runs Chef' `
        'Invoke-TtmRecycle -Farm Rebundle-Staging -BatchSize 3'
    Invoke-TtmRecycle -Farm Rebundle-Staging -BatchSize 3 | Format-Table | Out-Host

    Write-Step 'Step 5: snapshot each configured role as its next version' `
        "Get-TtmServer -Farm Rebundle-Staging | Where-Object Alias -ne 'TTM-Base' | New-TtmRoleSnapshot"
    Get-TtmServer -Farm Rebundle-Staging | Where-Object Alias -ne 'TTM-Base' | New-TtmRoleSnapshot | Format-Table | Out-Host

    Write-Step 'Step 6: swap the new versions into Dev and recycle it' `
        'Get-TtmRole -Latest | Set-TtmFarmRole -Farm Dev; Invoke-TtmRecycle -Farm Dev -BatchSize 3'
    Get-TtmRole -Latest | Set-TtmFarmRole -Farm Dev -WarningAction SilentlyContinue
    Invoke-TtmRecycle -Farm Dev -BatchSize 3 | Format-Table | Out-Host

    Write-Step 'Step 7: production roles take the images of the new versions (Production asks; -Force in scripts)' `
        'Get-TtmRole -Latest | Set-TtmRoleImage -Force'
    Get-TtmRole -Latest | Set-TtmRoleImage -Force -PassThru | Format-Table | Out-Host

    Write-Step 'The fleet report before the recycle: every Production server still on its old image' `
        "Get-TtmFleetReport -Farm Production; Get-TtmFleetReport -Html $before"
    Get-TtmFleetReport -Farm Production | Format-Table | Out-Host
    Get-TtmFleetReport -Html $before | Out-Null

    Write-Step 'Step 8: recycle Production and Dev (rehearsing a replacement of SystemWatcher that never boots)' `
        "Set-TtmSandbox -NeverBoot Production/SystemWatcher; Invoke-TtmRecycle -Farm Production, Dev -BatchSize 2 -Force -Timeout '0:0:5'"
    Set-TtmSandbox -NeverBoot Production/SystemWatcher
    try { Invoke-TtmRecycle -Farm Production, Dev -BatchSize 2 -Force -Timeout '0:0:5' | Format-Table | Out-Host }
    catch { Write-Host "   $($_.FullyQualifiedErrorId): $($_.Exception.Message)" -ForegroundColor Yellow }
    Set-TtmSandbox -NeverBoot @()

    Write-Step 'The fleet report after: only the server whose replacement never booted drifts' `
        "Get-TtmFleetReport | Where-Object Drift; Get-TtmFleetReport -Html $after"
    Get-TtmFleetReport | Where-Object Drift | Format-Table | Out-Host
    Get-TtmFleetReport -Html $after | Out-Null

    Show-Fleet 'After: farm roles and roles'
    Write-Step 'Every change is in the audit log' 'Get-TtmAuditLog -Action SetRoleImage, SetFarmRoleRole'
    Get-TtmAuditLog -Action SetRoleImage, SetFarmRoleRole | Format-Table Action, Target, Before, After | Out-Host
    Write-Step 'Behind the load balancer: each web replacement was healthy before its old server was deregistered, and the old one drained before it was terminated' `
        "Get-TtmAuditLog -Target 'Production/RailsAppServer*' -Action RegisterTargets, DeregisterTargets, TerminateServer"
    Get-TtmAuditLog -Target 'Production/RailsAppServer*' -Action RegisterTargets, DeregisterTargets, TerminateServer |
        Format-Table @{ n = 'Time'; e = { $_.Time.ToString('HH:mm:ss') } }, Action, Before | Out-Host
    Write-Host ("Runbook rehearsed in {0:0.0}s." -f $clock.Elapsed.TotalSeconds) -ForegroundColor Green
    Write-Host "Fleet report pages (open in a browser): $before and $after" -ForegroundColor Green
}
finally {
    Disconnect-TtmFleet
    if ($KeepSandbox) { Write-Host "Sandbox kept at $sandbox" }
    else { Remove-Item $sandbox -Recurse -Force -ErrorAction SilentlyContinue }
}
