<#
.SYNOPSIS
    Finishes out/Rebundle after the binaries are copied: writes the manifest's CmdletsToExport
    from the built assembly and compiles the help markdown into en-US/. Run by build.ps1 in a
    child process, so the build's own session never holds the module's assemblies.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleFolder,
    [Parameter(Mandatory)] [string] $HelpSource
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'HelpMarkdown.psm1')

# Every cmdlet the assembly defines, and no other: new cmdlets never go missing from the manifest.
$module = Import-Module (Join-Path $ModuleFolder 'Rebundle.PowerShell.dll') -PassThru
$cmdlets = @($module.ExportedCmdlets.Values | Sort-Object Name)
$manifest = Join-Path $ModuleFolder 'Rebundle.psd1'
$list = "CmdletsToExport      = @(`n" + (($cmdlets | ForEach-Object { "        '$($_.Name)'" }) -join "`n") + "`n    )"
$text = Get-Content $manifest -Raw
$updated = [regex]::Replace($text, "CmdletsToExport\s*=\s*(@\([^)]*\)|'[^']*')", { param($m) $list })
if ($updated -eq $text -and $text -notmatch [regex]::Escape($list)) { throw "No CmdletsToExport entry found in $manifest." }
Set-Content -Path $manifest -Value $updated -NoNewline -Encoding utf8

$culture = Join-Path $ModuleFolder 'en-US'
ConvertTo-MamlHelp -Command $cmdlets -SourceFolder $HelpSource -OutFile (Join-Path $culture 'Rebundle.PowerShell.dll-Help.xml')
foreach ($about in Get-ChildItem $HelpSource -Filter 'about_*.md') {
    ConvertTo-AboutHelpText -Path $about.FullName -OutFile (Join-Path $culture ($about.BaseName + '.help.txt'))
}
"$($cmdlets.Count) cmdlets exported and documented in $culture"
