# Packaging: the .nupkg that build.ps1 package writes installs with Install-PSResource from a
# folder repository into a clean module path, and the installed module works.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    $root = Get-RepoRoot
    [xml] $props = Get-Content (Join-Path $root 'Directory.Build.props')
    $script:version = $props.Project.PropertyGroup.RebundleVersion | Where-Object { $_ } | Select-Object -First 1
    $script:package = Join-Path $root "out/Rebundle.$version.nupkg"

    # A child PowerShell whose home folder is under $TestDrive, so its per-user module path and
    # PSResourceGet's repository list are new and empty: nothing of the user's is read or changed.
    # (PSResourceGet installs under $HOME/.local/share even when XDG_DATA_HOME says otherwise,
    # so the XDG variables are cleared rather than pointed elsewhere.)
    function New-CleanHome([string] $Name) {
        $folder = Join-Path $TestDrive $Name
        New-Item -ItemType Directory (Join-Path $folder '.local/share'), (Join-Path $folder '.config'), (Join-Path $folder '.cache') -Force | Out-Null
        $folder
    }
    $script:userHome = New-CleanHome 'home'
    function Invoke-CleanPwsh([string] $Script, [string] $HomeFolder = $userHome) {
        $saved = @{}
        $clean = @{ HOME = $HomeFolder; XDG_DATA_HOME = $null; XDG_CONFIG_HOME = $null; XDG_CACHE_HOME = $null; PSModulePath = $null }
        foreach ($name in $clean.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $clean[$name]) }
        try {
            $pwsh = Get-PwshCommand
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("`$ErrorActionPreference = 'Stop'; $Script"))
            & $pwsh.Exe @($pwsh.Prefix) -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 | ForEach-Object { "$_" }
        }
        finally { foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) } }
    }
}

Describe 'The package' {
    # The clean child's home is a Unix HOME (.local/share, .config); a skip says so (build.ps1 counts it).
    BeforeEach { if (-not $IsLinux -and -not $IsMacOS) { Set-ItResult -Skipped -Because 'needs Linux or macOS: the clean child home is a Unix HOME' } }
    It 'was written by build.ps1 package' {
        $package | Should -Exist
    }

    It 'carries the manifest''s id, version, description, tags and links' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($package)
        try {
            $entry = $zip.Entries | Where-Object FullName -eq 'Rebundle.nuspec'
            $reader = [IO.StreamReader]::new($entry.Open())
            [xml] $nuspec = $reader.ReadToEnd(); $reader.Dispose()
            $files = $zip.Entries.FullName
        }
        finally { $zip.Dispose() }
        $metadata = $nuspec.package.metadata
        $metadata.id | Should -Be 'Rebundle'
        $metadata.version | Should -Be $version
        $metadata.description | Should -Match 'runbook'
        $metadata.projectUrl | Should -Match '^https://'
        $metadata.tags -split ' ' | Should -Contain 'PSEdition_Core'
        $files | Should -Contain 'Rebundle.psd1'
        $files | Should -Contain 'en-US/Rebundle.PowerShell.dll-Help.xml'
        $files | Should -Contain 'dependencies/Rebundle.Sandbox.dll'
        $files | Should -Contain 'Rebundle.Remote.dll' -Because 'the remote cmdlets bind its types in the default context'
    }

    It 'installs with Install-PSResource from a folder repository into a clean module path, and runs' {
        $repository = New-Item -ItemType Directory (Join-Path $TestDrive 'repository')
        Copy-Item $package $repository
        $sandbox = Join-Path $TestDrive 'sandbox'

        $installed = Invoke-CleanPwsh @"
Register-PSResourceRepository -Name RebundleTest -Uri '$repository' -Trusted
Install-PSResource -Name Rebundle -Repository RebundleTest -Scope CurrentUser -TrustRepository -Quiet
'INSTALLED ' + (Get-InstalledPSResource -Name Rebundle).Version
"@
        $installed | Should -Contain "INSTALLED $version" -Because ($installed -join "`n")

        # A second process finds the module by name, as an operator's session would.
        $used = Invoke-CleanPwsh @"
Import-Module Rebundle
'BASE ' + (Get-Module Rebundle).ModuleBase
'VERSION ' + (Get-Module Rebundle).Version
Connect-TtmFleet -Sandbox -Path '$sandbox' | Out-Null
'FARMS ' + ((Get-TtmFarm).Name -join ',')
'HELP ' + (Get-Help Get-TtmFarm).Synopsis
"@
        $used | Should -Contain "VERSION $version" -Because ($used -join "`n")
        ($used | Where-Object { $_ -like 'BASE *' }) | Should -BeLike "BASE $userHome*"
        $used | Should -Contain 'FARMS Dev,Production,Rebundle-Staging'
        $used | Should -Contain 'HELP Lists farms, optionally by name.'
    }
}

Describe 'The package with PowerShellGet 2' {
    # The clean child's home is a Unix HOME (.local/share, .config); a skip says so (build.ps1 counts it).
    BeforeEach { if (-not $IsLinux -and -not $IsMacOS) { Set-ItResult -Skipped -Because 'needs Linux or macOS: the clean child home is a Unix HOME' } }
    It 'installs with Install-Module from a folder repository too' {
        $repository = New-Item -ItemType Directory (Join-Path $TestDrive 'repository-v2')
        Copy-Item $package $repository
        $v2Home = New-CleanHome 'home-v2'
        $output = Invoke-CleanPwsh -HomeFolder $v2Home @"
Register-PSRepository -Name RebundleTestV2 -SourceLocation '$repository' -InstallationPolicy Trusted
Install-Module -Name Rebundle -Repository RebundleTestV2 -Scope CurrentUser
Import-Module Rebundle
'BASE ' + (Get-Module Rebundle).ModuleBase
Connect-TtmFleet -Sandbox -Path '$(Join-Path $TestDrive sandbox-v2)' | Out-Null
'FARMS ' + ((Get-TtmFarm).Name -join ',')
"@
        ($output | Where-Object { $_ -like 'BASE *' }) | Should -BeLike "BASE $v2Home*" -Because ($output -join "`n")
        $output | Should -Contain 'FARMS Dev,Production,Rebundle-Staging'
    }
}

Describe 'The manifest' {
    BeforeAll { $script:manifest = Test-ModuleManifest (Get-RebundleModulePath) }

    It 'takes its version from Directory.Build.props' {
        "$($manifest.Version)" | Should -Be $version
    }

    It 'exports exactly the cmdlets the assembly defines' {
        # LoadFrom, not LoadFile: reading the cmdlet types needs Rebundle.Remote.dll beside it (their remote base types use its types).
        $defined = [Reflection.Assembly]::LoadFrom((Join-Path (Split-Path (Get-RebundleModulePath)) 'Rebundle.PowerShell.dll')).GetExportedTypes() |
            Where-Object { -not $_.IsAbstract -and $_.GetCustomAttributes([Management.Automation.CmdletAttribute], $false) } |
            ForEach-Object { $a = $_.GetCustomAttributes([Management.Automation.CmdletAttribute], $false)[0]; "$($a.VerbName)-$($a.NounName)" }
        @($manifest.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($defined | Sort-Object)
    }

    It 'says where it runs and where it comes from' {
        $manifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $manifest.PrivateData.PSData.ProjectUri | Should -Not -BeNullOrEmpty
        $manifest.PrivateData.PSData.LicenseUri | Should -Not -BeNullOrEmpty
        $manifest.PrivateData.PSData.Tags | Should -Contain 'rebundle'
    }
}
