# Import stays light: importing loads none of the module's dependencies (no backend, no AWS SDK,
# no SSH); they load when a cmdlet needs one. How long import takes is measured, not tested:
# build/Measure-ImportTime.ps1 reports it and docs/module.md records the numbers, since a time
# bound loose enough for a shared test machine lets a several-fold slowdown pass.

Describe 'Import-Module Rebundle' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
        # One fresh process: what is loaded from dependencies/ after import, then after a connect.
        $dependencies = Join-Path (Split-Path (Get-RebundleModulePath)) 'dependencies'
        $sandbox = Join-Path $TestDrive 'sandbox'
        $output = Invoke-ChildRebundle @"
function Get-LoadedDependency { @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { -not `$_.IsDynamic -and `$_.Location -like '$dependencies*' } | ForEach-Object { `$_.GetName().Name } | Sort-Object -Unique) -join ',' }
'AT-IMPORT ' + (Get-LoadedDependency)
Connect-TtmFleet -Sandbox -Path '$sandbox' | Out-Null
'AT-CONNECT ' + (Get-LoadedDependency)
"@
        $script:atImport = @($output | Where-Object { $_ -like 'AT-IMPORT *' })
        $script:atConnect = @($output | Where-Object { $_ -like 'AT-CONNECT *' })
    }

    It 'loads no dependency (no backend, no AWS SDK, no SSH) until a cmdlet needs one' {
        $atImport | Should -Be @('AT-IMPORT ') -Because 'import alone loads nothing from dependencies/'
    }

    It 'sees the dependencies a cmdlet loads, so the check above is not blind' {
        $atConnect | Should -HaveCount 1
        $atConnect[0].Substring('AT-CONNECT '.Length) -split ',' | Should -Contain 'Rebundle.Sandbox'
    }
}
