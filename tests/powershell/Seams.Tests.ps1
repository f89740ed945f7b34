# Seams: how Connect-TtmFleet chooses a backend, and what a session and the module leave behind
# when a runspace closes or the module is removed.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
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
        $registered = Get-Internal 'Rebundle.PowerShell.Commands.BackendRegistry' 'Names' | Sort-Object
        $registered | Should -Be $switches
        $switches | Should -Be @('Aws', 'Sandbox', 'Scalr')
    }

    It 'refuses an unknown backend name with TtmInvalidArgument and the names it knows' {
        $registry = $assembly.GetType('Rebundle.PowerShell.Commands.BackendRegistry', $true)
        $thrown = { $registry.GetMethod('For').Invoke($null, @('Azure')) } | Should -Throw -PassThru
        $thrown.Exception.InnerException.Code | Should -Be 'InvalidArgument'
        $thrown.Exception.InnerException.Message | Should -Match "no backend named 'Azure'.*Sandbox, Scalr, Aws"
    }
}

Describe 'Session and module lifetime' {
    It 'forgets a runspace''s connection when the runspace closes' {
        $count = { Get-Internal 'Rebundle.PowerShell.Infrastructure.FleetSession' 'Count' }
        $before = & $count
        $runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        $shell = [powershell]::Create()
        $shell.Runspace = $runspace
        try {
            $shell.AddScript("Import-Module '$(Get-RebundleModulePath)'; Connect-TtmFleet -Sandbox -Path '$(Join-Path $TestDrive 'sandbox')' | Out-Null").Invoke() | Out-Null
            $shell.HadErrors | Should -BeFalse
            & $count | Should -Be ($before + 1)
        }
        finally {
            $runspace.Close()
            $shell.Dispose()
        }
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while ((& $count) -ne $before -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        & $count | Should -Be $before
    }

    It 'unhooks its assembly resolver on Remove-Module, and hooks it again on Import-Module' {
        # The process's AssemblyResolve handlers (PowerShell 7 keeps them on AssemblyLoadContext),
        # each printed as RESOLVER <declaring type>.
        $resolvers = "`$f = [System.Runtime.Loader.AssemblyLoadContext].GetField('AssemblyResolve', [Reflection.BindingFlags]'NonPublic,Static'); " +
            "@(`$f.GetValue(`$null)).GetInvocationList() | ForEach-Object { 'RESOLVER ' + `$_.Method.DeclaringType.FullName }"
        $ours = 'RESOLVER Rebundle.PowerShell.Module.DependencyResolver'
        Invoke-ChildRebundle $resolvers | Should -Contain $ours
        Invoke-ChildRebundle "Remove-Module Rebundle; $resolvers" | Should -Not -Contain $ours
        Invoke-ChildRebundle "Remove-Module Rebundle; Import-Module '$(Get-RebundleModulePath)'; $resolvers" | Where-Object { $_ -eq $ours } | Should -HaveCount 1
    }
}
