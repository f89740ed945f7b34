# Coexistence: on PowerShell 7 the module's dependencies load in its own AssemblyLoadContext,
# so a session that already holds another AWSSDK.Core (as AWS's own modules load) can import
# Rebundle and use it, and a session that imported Rebundle can load another AWSSDK.Core.
# Each case runs in a fresh process: assembly loading cannot be undone.

BeforeDiscovery {
    $script:isCore = $PSVersionTable.PSEdition -eq 'Core'
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'helpers/Ec2Endpoint.psm1') -Force
    $script:module = Get-RebundleModulePath
    $script:dependencies = Join-Path (Split-Path $module) 'dependencies'

    # Other AWSSDK.Core builds, restored by build.ps1 from build/Tools.proj.
    $packages = Join-Path (Get-RepoRoot) '.tools/packages/awssdk.core'
    function Get-ForeignAwsCore([string] $Version) {
        $dll = Join-Path $packages "$Version/lib/netstandard2.0/AWSSDK.Core.dll"
        if (-not (Test-Path $dll)) { throw "AWSSDK.Core $Version is missing: run build.ps1 test, which restores build/Tools.proj." }
        $dll
    }

    # Lines like "CORE <context> <assembly version> <file version>" for every AWSSDK.Core loaded.
    $script:reportCores = @'
foreach ($context in [System.Runtime.Loader.AssemblyLoadContext]::All) {
    foreach ($assembly in $context.Assemblies | Where-Object { $_.GetName().Name -eq 'AWSSDK.Core' }) {
        'CORE {0} {1} {2}' -f $context.Name, $assembly.GetName().Version, [Diagnostics.FileVersionInfo]::GetVersionInfo($assembly.Location).FileVersion
    }
}
'@

    function Invoke-Child([string] $Script) {
        $pwsh = Get-PwshCommand
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("`$ErrorActionPreference = 'Stop'`n$Script"))
        & $pwsh.Exe @($pwsh.Prefix) -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 | ForEach-Object { "$_" }
    }

    Set-Ec2TestCredentials
    $script:ec2 = Start-TestEc2Endpoint
    $script:ours = [Diagnostics.FileVersionInfo]::GetVersionInfo((Join-Path $dependencies 'AWSSDK.Core.dll')).FileVersion
}

AfterAll {
    Stop-TestEc2Endpoint
    Restore-Ec2TestCredentials
}

Describe 'The module layout' {
    It 'ships AWSSDK.Core, SSH.NET and the backends under dependencies/, and only the cmdlets, the core and the remote logic beside the manifest' {
        Join-Path $dependencies 'AWSSDK.Core.dll' | Should -Exist
        Join-Path $dependencies 'Rebundle.Sandbox.dll' | Should -Exist
        Join-Path $dependencies 'Rebundle.Ssh.dll' | Should -Exist
        Join-Path $dependencies 'Renci.SshNet.dll' | Should -Exist
        (Get-ChildItem (Split-Path $module) -Filter *.dll).Name | Sort-Object |
            Should -Be @('Rebundle.Core.dll', 'Rebundle.PowerShell.dll', 'Rebundle.PowerShell.LoadContext.dll', 'Rebundle.Remote.dll')
    }
}

Describe 'On PowerShell 7' {
    BeforeEach { if ($PSVersionTable.PSEdition -ne 'Core') { Set-ItResult -Skipped -Because 'needs PowerShell 7: Windows PowerShell has no AssemblyLoadContext' } }
    It 'imports and works after a session loaded an older AWSSDK.Core of the same assembly version (4.0.3.3)' {
        $output = Invoke-Child @"
Add-Type -Path '$(Get-ForeignAwsCore 4.0.3.3)'
Import-Module '$module'
Connect-TtmFleet -Aws -EndpointUrl '$($ec2.Url)' -Region us-east-1 | Out-Null
'FARMS ' + ((Get-TtmFarm).Name -join ',')
$reportCores
'SESSION SEES ' + [Diagnostics.FileVersionInfo]::GetVersionInfo([Amazon.Runtime.AnonymousAWSCredentials].Assembly.Location).FileVersion
"@
        $output | Should -Contain 'FARMS Dev,Production,Rebundle-Staging' -Because ($output -join "`n")
        $output | Should -Contain 'CORE Default 4.0.0.0 4.0.3.3'
        $output | Should -Contain "CORE Rebundle 4.0.0.0 $ours"
        $output | Should -Contain 'SESSION SEES 4.0.3.3' -Because 'the session keeps the AWSSDK.Core it loaded'
    }

    It 'imports and works after a session loaded AWSSDK.Core 3.7' {
        $output = Invoke-Child @"
Add-Type -Path '$(Get-ForeignAwsCore 3.7.402)'
Import-Module '$module'
Connect-TtmFleet -Aws -EndpointUrl '$($ec2.Url)' -Region us-east-1 | Out-Null
'FARMS ' + ((Get-TtmFarm).Name -join ',')
$reportCores
"@
        $output | Should -Contain 'FARMS Dev,Production,Rebundle-Staging' -Because ($output -join "`n")
        $output | Should -Contain 'CORE Default 3.3.0.0 3.7.402.0'
        $output | Should -Contain "CORE Rebundle 4.0.0.0 $ours"
    }

    It 'lets a session that already uses Rebundle on AWS load another AWSSDK.Core, and both keep working' {
        $output = Invoke-Child @"
Import-Module '$module'
Connect-TtmFleet -Aws -EndpointUrl '$($ec2.Url)' -Region us-east-1 | Out-Null
'BEFORE ' + ((Get-TtmFarm).Name -join ',')
Add-Type -Path '$(Get-ForeignAwsCore 3.7.402)'
'FOREIGN ' + [Amazon.Runtime.AnonymousAWSCredentials]::new().GetType().Assembly.GetName().Version
'AFTER ' + ((Get-TtmServer -Farm Dev -Role Sidekiq).Farm -join ',')
$reportCores
"@
        $output | Should -Contain 'BEFORE Dev,Production,Rebundle-Staging' -Because ($output -join "`n")
        $output | Should -Contain 'FOREIGN 3.3.0.0'
        $output | Should -Contain 'AFTER Dev'
        $output | Should -Contain 'CORE Default 3.3.0.0 3.7.402.0'
        $output | Should -Contain "CORE Rebundle 4.0.0.0 $ours"
    }

    It 'makes its load context when a dependency is first needed, not at import' {
        $output = Invoke-Child @"
Import-Module '$module'
'AFTER IMPORT ' + ([System.Runtime.Loader.AssemblyLoadContext]::All.Name -contains 'Rebundle')
Connect-TtmFleet -Sandbox -Path '$(Join-Path $TestDrive lazy)' | Out-Null
'AFTER CONNECT ' + ([System.Runtime.Loader.AssemblyLoadContext]::All.Name -contains 'Rebundle')
"@
        $output | Should -Contain 'AFTER IMPORT False' -Because ($output -join "`n")
        $output | Should -Contain 'AFTER CONNECT True'
    }

    It 'loads every dll of dependencies/ it uses in its own context, and the cmdlets and core in the default one' {
        $output = Invoke-Child @"
Import-Module '$module'
Connect-TtmFleet -Sandbox -Path '$(Join-Path $TestDrive sandbox)' | Out-Null
Get-TtmFarm | Out-Null
Connect-TtmFleet -Aws -EndpointUrl '$($ec2.Url)' -Region us-east-1 | Out-Null
Get-TtmFarm | Out-Null
foreach (`$context in [System.Runtime.Loader.AssemblyLoadContext]::All) {
    foreach (`$assembly in `$context.Assemblies | Where-Object { -not `$_.IsDynamic -and `$_.Location -like '$(Split-Path $module)*' }) {
        'LOADED {0} {1}' -f `$context.Name, (Split-Path `$assembly.Location -Leaf)
    }
}
"@
        $loaded = $output | Where-Object { $_ -like 'LOADED *' }
        $loaded | Should -Contain 'LOADED Default Rebundle.PowerShell.dll' -Because ($output -join "`n")
        $loaded | Should -Contain 'LOADED Default Rebundle.Core.dll'
        foreach ($dll in 'Rebundle.Sandbox.dll', 'Rebundle.Aws.dll', 'AWSSDK.Core.dll', 'AWSSDK.EC2.dll') {
            $loaded | Should -Contain "LOADED Rebundle $dll"
        }
        $loaded | Where-Object { $_ -like 'LOADED Default *' -and $_ -notmatch 'Rebundle\.(PowerShell|Core|Remote|PowerShell\.LoadContext)\.dll$' } |
            Should -BeNullOrEmpty -Because 'nothing from dependencies/ may land in the default context'
    }
    It 'loads the remote logic with the cmdlets, whose parameters use its types, and SSH.NET in its own context' {
        $output = Invoke-Child @"
Import-Module '$module'
'CHECK TYPE ' + (Split-Path (Get-Command Test-TtmServer).Parameters['Check'].ParameterType.Assembly.Location -Leaf)
Connect-TtmFleet -Sandbox -Path '$(Join-Path $TestDrive remote)' | Out-Null
Set-Content -Path '$(Join-Path $TestDrive not-a-key.pem)' -Value 'not a key'
# Nothing listens on port 1: the point is only that the SSH work ran far enough to load SSH.NET.
Get-TtmServer | Select-Object -First 1 | Invoke-TtmSsh 'true' -Address 127.0.0.1 -Port 1 -KeyFile '$(Join-Path $TestDrive not-a-key.pem)' -ConnectTimeout 0:00:02 -Confirm:`$false -ErrorAction SilentlyContinue -ErrorVariable failed
'FAILED ' + `$failed[0].FullyQualifiedErrorId
foreach (`$context in [System.Runtime.Loader.AssemblyLoadContext]::All) {
    foreach (`$assembly in `$context.Assemblies | Where-Object { -not `$_.IsDynamic -and `$_.Location -like '$(Split-Path $module)*' }) {
        'LOADED {0} {1}' -f `$context.Name, (Split-Path `$assembly.Location -Leaf)
    }
}
"@
        $output | Should -Contain 'CHECK TYPE Rebundle.Remote.dll' -Because ($output -join "`n")
        $output | Should -Contain 'FAILED TtmSshKeyNotFound,Rebundle.PowerShell.Commands.InvokeTtmSshCommand'
        $output | Should -Contain 'LOADED Default Rebundle.Remote.dll'
        $output | Should -Contain 'LOADED Rebundle Rebundle.Ssh.dll'
        $output | Should -Contain 'LOADED Rebundle Renci.SshNet.dll'
        $output | Should -Not -Contain 'LOADED Rebundle Rebundle.Remote.dll' -Because 'one copy of the remote types, the one the cmdlets bind'
    }
}
