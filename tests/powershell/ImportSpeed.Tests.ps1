# Import stays light: the short form of build/Measure-ImportTime.ps1 (3 runs). The bound is
# generous because test machines are shared; the real numbers are in the test output and
# docs/module.md. What must hold exactly: importing loads none of the module's dependencies.

Describe 'Import-Module Rebundle' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $script:measured = & (Join-Path (Get-RepoRoot) 'build/Measure-ImportTime.ps1') -Runs 3 -ModulePath (Get-RebundleModulePath)
        Write-Host ("Import: {0} ms over a bare start of {1} ms (median of {2}); Import-Module itself {3} ms" -f
            $measured.ImportOverheadMs, $measured.BareStartMs, $measured.Runs, $measured.ImportModuleMs)
    }

    It 'loads no dependency (no backend, no AWS SDK, no SSH) until a cmdlet needs one' {
        $measured.DependenciesAtImport | Should -BeNullOrEmpty
    }

    It 'adds well under a second to starting PowerShell' {
        $measured.ImportOverheadMs | Should -BeLessThan 1000
        $measured.ImportModuleMs | Should -BeLessThan 750
    }
}
