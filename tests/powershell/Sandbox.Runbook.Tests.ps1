BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'helpers/RunbookScenario.ps1')
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
}

Describe 'The runbook on the Sandbox' {
    Add-RunbookScenario -Connect { $script:sandbox = New-TestSandbox -Delay 0.2 }

    It 'keeps the rehearsal in the Sandbox file between sessions' {
        Disconnect-TtmFleet
        Connect-TtmFleet -Sandbox -Path $sandbox.Path | Out-Null
        (Get-TtmFarmRole -Farm Dev -Alias RailsAppServer).Role | Should -Be 'RailsAppServer-1-7'
    }
}
