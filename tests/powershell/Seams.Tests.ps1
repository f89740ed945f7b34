# Seams: how Connect-TtmFleet chooses a backend, and what a session and the module leave behind
# when a runspace closes or the module is removed.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
    $script:assembly = (Get-Command Connect-TtmFleet).ImplementingType.Assembly
    function Get-Internal([string] $Type, [string] $Member) {
        $flags = [Reflection.BindingFlags]'Static,Public,NonPublic'
        $assembly.GetType($Type, $true).GetProperty($Member, $flags).GetValue($null)
    }
}

Describe 'Choosing a backend' {
    It 'has one backend list entry for every backend switch of Connect-TtmFleet, and no other' {
        $switches = (Get-Command Connect-TtmFleet).ParameterSets.Name | Sort-Object
        $registered = Get-Internal 'Rebundle.PowerShell.Infrastructure.BackendRegistry' 'Names' | Sort-Object
        $registered | Should -Be $switches
        $switches | Should -Be @('Aws', 'Sandbox', 'Scalr')
    }

    It 'refuses an unknown backend name with TtmInvalidArgument and the names it knows' {
        $registry = $assembly.GetType('Rebundle.PowerShell.Infrastructure.BackendRegistry', $true)
        $thrown = { $registry.GetMethod('For').Invoke($null, @('Azure')) } | Should -Throw -PassThru
        $thrown.Exception.InnerException.Code | Should -Be 'InvalidArgument'
        $thrown.Exception.InnerException.Message | Should -Match "no backend named 'Azure'.*Sandbox, Scalr, Aws"
    }
}
