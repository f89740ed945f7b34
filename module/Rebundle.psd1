@{
    RootModule           = 'Rebundle.PowerShell.dll'
    ModuleVersion        = '0.0.0' # written by build.ps1 from Directory.Build.props
    GUID                 = '6f0b3c2e-5d1a-4b8e-9a57-3c1e2f7d9b40'
    Author               = 'Rebundle team'
    CompanyName          = 'Rebundle'
    Copyright            = '(c) Rebundle team. MIT License.'
    Description          = 'Rebuild, version, test and roll out server images for a fleet: the image-rebundle runbook (patch the base image, let Chef configure each role, snapshot versioned roles, try them on Dev, promote to Production, recycle) as pipeable cmdlets, on an embedded Sandbox, AWS EC2 or Scalr.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FormatsToProcess     = @('Rebundle.Format.ps1xml', 'Rebundle.Ssh.Format.ps1xml')
    CmdletsToExport      = @(
        'Connect-TtmFleet'
        'Disconnect-TtmFleet'
        'Get-TtmFleet'
        'Get-TtmFarm'
        'Get-TtmFarmRole'
        'Get-TtmRole'
        'Get-TtmServer'
        'Get-TtmNextRoleVersion'
        'New-TtmRoleSnapshot'
        'Set-TtmFarmRole'
        'Set-TtmRoleImage'
        'Invoke-TtmRecycle'
        'Set-TtmSandbox'
        'Invoke-TtmRebundle'
        'Undo-TtmRebundle'
        'Get-TtmAuditLog'
        'Remove-TtmRoleVersion'
        'Invoke-TtmSsh'
        'Update-TtmServerOs'
        'Test-TtmServer'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('rebundle', 'ami', 'image', 'aws', 'ec2', 'scalr', 'chef', 'fleet', 'devops', 'PSEdition_Core', 'PSEdition_Desktop')
            ProjectUri   = 'https://github.com/rebundle/rebundle'
            LicenseUri   = 'https://github.com/rebundle/rebundle/blob/main/LICENSE'
            ReleaseNotes = 'See https://github.com/rebundle/rebundle/blob/main/README.md'
        }
    }
}
