# Reads the help markdown of docs/help (format: docs/help/README.md) and writes what Get-Help
# reads: the cmdlets' MAML file and the about topics as text. No generator package is
# available, so this is the generator: a small line-based parser and an XmlWriter.
#
# What the markdown says (synopsis, description, parameter descriptions, examples) comes from
# the author; what the code already knows (parameter sets, types, positions, pipeline input,
# wildcards, aliases, defaults) comes from the built cmdlets, so it can never go stale.

Set-StrictMode -Version Latest

# ---- Reading the markdown -------------------------------------------------------------------

# Splits text into paragraphs: blank lines separate them; "- " items are paragraphs of their own.
function Split-Paragraph {
    param([string[]] $Lines)
    $paragraphs = [Collections.Generic.List[string]]::new()
    $current = [Collections.Generic.List[string]]::new()
    $flush = { if ($current.Count) { $paragraphs.Add(($current -join ' ').Trim()); $current.Clear() } }
    foreach ($line in $Lines) {
        if ($line -match '^\s*$') { & $flush; continue }
        if ($line -match '^\s*[-*] ') { & $flush }
        $current.Add($line.Trim())
    }
    & $flush
    , $paragraphs.ToArray()
}

# Markdown inline marks that mean nothing in a console: `code`, **bold**, [text](link).
function ConvertTo-PlainText([string] $Text) {
    $Text -replace '`([^`]*)`', '$1' -replace '\*\*([^*]+)\*\*', '$1' -replace '\[([^\]]+)\]\([^)]*\)', '$1'
}

# One cmdlet's markdown file → a plain object with the sections.
function Read-CmdletHelpMarkdown {
    param([Parameter(Mandatory)] [string] $Path)
    $help = [ordered]@{
        Path = $Path; Name = $null; Synopsis = @(); Description = @(); Parameters = [ordered]@{}
        Examples = [Collections.Generic.List[object]]::new(); Inputs = [ordered]@{}; Outputs = [ordered]@{}
        Notes = @(); Links = [Collections.Generic.List[object]]::new()
    }
    $section = $null; $item = $null; $buffer = [Collections.Generic.List[string]]::new()
    $inCode = $false; $code = $null

    $close = {
        $lines = $buffer.ToArray(); $buffer.Clear()
        switch ($section) {
            'SYNOPSIS' { $help.Synopsis = Split-Paragraph $lines }
            'DESCRIPTION' { $help.Description = Split-Paragraph $lines }
            'NOTES' { $help.Notes = Split-Paragraph $lines }
            'PARAMETERS' { if ($item) { $help.Parameters[$item] = Split-Paragraph $lines } }
            'INPUTS' { if ($item) { $help.Inputs[$item] = Split-Paragraph $lines } }
            'OUTPUTS' { if ($item) { $help.Outputs[$item] = Split-Paragraph $lines } }
            'EXAMPLES' { if ($item) { $item.Remarks = Split-Paragraph $lines } }
            'RELATED LINKS' {
                foreach ($line in $lines) {
                    if ($line -match '^\s*[-*]\s*\[([^\]]+)\]\(([^)]*)\)') { $help.Links.Add([pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2] }) }
                    elseif ($line -match '^\s*[-*]\s*(\S.*)$') { $help.Links.Add([pscustomobject]@{ Text = $Matches[1].Trim(); Uri = '' }) }
                }
            }
        }
    }

    foreach ($line in Get-Content -LiteralPath $Path) {
        if ($inCode) {
            if ($line -match '^\s*```\s*$') { $inCode = $false; $item.Code = ($code -join "`n"); continue }
            $code.Add($line); continue
        }
        if ($line -match '^```(.*)$') {
            if ($section -ne 'EXAMPLES' -or -not $item) { throw "${Path}: code blocks belong to an example (### Example N: title)." }
            # "```powershell no-run": shown in the help, but the tests do not run it (it needs a real cloud).
            $item.NoRun = $Matches[1] -match '\bno-run\b'
            $inCode = $true; $code = [Collections.Generic.List[string]]::new(); continue
        }
        if ($line -match '^# (\S+)\s*$') { $help.Name = $Matches[1]; continue }
        if ($line -match '^## (.+?)\s*$') {
            & $close; $section = $Matches[1].ToUpperInvariant(); $item = $null; continue
        }
        if ($line -match '^### (.+?)\s*$') {
            & $close
            $heading = $Matches[1]
            switch ($section) {
                'PARAMETERS' { $item = $heading -replace '^-', '' }
                'EXAMPLES' { $item = [pscustomobject]@{ Title = $heading; Code = ''; Remarks = @(); NoRun = $false }; $help.Examples.Add($item) }
                default { $item = $heading }
            }
            continue
        }
        $buffer.Add($line)
    }
    if ($inCode) { throw "${Path}: a code block is not closed." }
    & $close
    if (-not $help.Name) { throw "${Path}: the first line must be '# <Cmdlet-Name>'." }
    [pscustomobject]$help
}

# ---- Writing MAML -----------------------------------------------------------------------------

$script:Ns = @{
    maml = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
}

function Write-Paragraphs($Writer, [string[]] $Paragraphs) {
    $Writer.WriteStartElement('maml', 'description', $Ns.maml)
    foreach ($p in $Paragraphs) { $Writer.WriteElementString('maml', 'para', $Ns.maml, (ConvertTo-PlainText $p)) }
    $Writer.WriteEndElement()
}

function Get-FriendlyTypeName([type] $Type) {
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { $Type = $underlying }
    $Type.Name
}

# WhatIf and Confirm are in every changing cmdlet; their text is written once, here.
$script:StandardParameterText = @{
    WhatIf = @('Shows what would happen if the cmdlet runs. The cmdlet is not run and nothing changes.')
    Confirm = @('Prompts you for confirmation before each change.')
}

function Get-ParameterDefault($Instance, [string] $Name) {
    if (-not $Instance) { return 'None' }
    $property = $Instance.GetType().GetProperty($Name)
    if (-not $property) { return 'None' }
    $value = $property.GetValue($Instance)
    if ($null -eq $value -or $value -is [Management.Automation.SwitchParameter] -or ($value -is [string] -and $value -eq '') -or
        ($value -is [Array] -and $value.Length -eq 0)) { return 'None' }
    "$value"
}

function Write-Parameter($Writer, $Parameter, $Metadata, [string[]] $Description, [string] $Default, [string] $Position) {
    $type = $Metadata.ParameterType
    $isSwitch = $type -eq [Management.Automation.SwitchParameter]
    $pipeline = @()
    if ($Parameter.ValueFromPipeline) { $pipeline += 'ByValue' }
    if ($Parameter.ValueFromPipelineByPropertyName) { $pipeline += 'ByPropertyName' }
    $globbing = [bool]($Metadata.Attributes | Where-Object { $_ -is [Management.Automation.SupportsWildcardsAttribute] })
    $Writer.WriteStartElement('command', 'parameter', $Ns.command)
    $Writer.WriteAttributeString('required', "$($Parameter.IsMandatory)".ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', "$($type.IsArray)".ToLowerInvariant())
    $Writer.WriteAttributeString('globbing', "$globbing".ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', $(if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' }))
    $Writer.WriteAttributeString('position', $Position)
    $Writer.WriteAttributeString('aliases', $(if ($Metadata.Aliases.Count) { $Metadata.Aliases -join ', ' } else { 'none' }))
    $Writer.WriteElementString('maml', 'name', $Ns.maml, $Metadata.Name)
    Write-Paragraphs $Writer $Description
    if (-not $isSwitch) {
        $Writer.WriteStartElement('command', 'parameterValue', $Ns.command)
        $Writer.WriteAttributeString('required', 'true')
        $Writer.WriteAttributeString('variableLength', "$($type.IsArray)".ToLowerInvariant())
        $Writer.WriteString((Get-FriendlyTypeName $type))
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('dev', 'type', $Ns.dev)
    $Writer.WriteElementString('maml', 'name', $Ns.maml, (Get-FriendlyTypeName $type))
    $Writer.WriteEndElement()
    $Writer.WriteElementString('dev', 'defaultValue', $Ns.dev, $Default)
    $Writer.WriteEndElement()
}

function Get-DocumentedParameterNames($Command) {
    $common = [Management.Automation.Cmdlet]::CommonParameters
    $Command.Parameters.Keys | Where-Object { $_ -notin $common }
}

function Write-Command($Writer, $Command, $Help) {
    $instance = try { [Activator]::CreateInstance($Command.ImplementingType) } catch { $null }
    $descriptionOf = {
        param($name)
        if ($Help.Parameters.Contains($name)) { $Help.Parameters[$name] } else { $StandardParameterText[$name] }
    }
    $positionOf = {
        param($parameter)
        if ($parameter.Position -ge 0) { "$($parameter.Position)" } else { 'named' }
    }
    $documented = @(Get-DocumentedParameterNames $Command)

    $Writer.WriteStartElement('command', 'command', $Ns.command)
    $Writer.WriteAttributeString('xmlns', 'maml', $null, $Ns.maml)
    $Writer.WriteAttributeString('xmlns', 'dev', $null, $Ns.dev)

    $Writer.WriteStartElement('command', 'details', $Ns.command)
    $Writer.WriteElementString('command', 'name', $Ns.command, $Command.Name)
    $Writer.WriteElementString('command', 'verb', $Ns.command, $Command.Verb)
    $Writer.WriteElementString('command', 'noun', $Ns.command, $Command.Noun)
    Write-Paragraphs $Writer $Help.Synopsis
    $Writer.WriteEndElement()
    Write-Paragraphs $Writer $Help.Description

    $Writer.WriteStartElement('command', 'syntax', $Ns.command)
    foreach ($set in $Command.ParameterSets) {
        $Writer.WriteStartElement('command', 'syntaxItem', $Ns.command)
        $Writer.WriteElementString('maml', 'name', $Ns.maml, $Command.Name)
        foreach ($parameter in $set.Parameters | Where-Object Name -in $documented) {
            $metadata = $Command.Parameters[$parameter.Name]
            Write-Parameter $Writer $parameter $metadata (& $descriptionOf $parameter.Name) (Get-ParameterDefault $instance $parameter.Name) (& $positionOf $parameter)
        }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'parameters', $Ns.command)
    foreach ($name in $documented) {
        $metadata = $Command.Parameters[$name]
        # Across sets a parameter may differ; the help shows the first set's view, like platyPS.
        $parameter = $Command.ParameterSets.Parameters | Where-Object Name -eq $name | Select-Object -First 1
        Write-Parameter $Writer $parameter $metadata (& $descriptionOf $name) (Get-ParameterDefault $instance $name) (& $positionOf $parameter)
    }
    $Writer.WriteEndElement()

    foreach ($kind in @(@{ Outer = 'inputTypes'; Inner = 'inputType'; Items = $Help.Inputs }, @{ Outer = 'returnValues'; Inner = 'returnValue'; Items = $Help.Outputs })) {
        $Writer.WriteStartElement('command', $kind.Outer, $Ns.command)
        foreach ($typeName in $kind.Items.Keys) {
            $Writer.WriteStartElement('command', $kind.Inner, $Ns.command)
            $Writer.WriteStartElement('dev', 'type', $Ns.dev)
            $Writer.WriteElementString('maml', 'name', $Ns.maml, $typeName)
            $Writer.WriteEndElement()
            Write-Paragraphs $Writer $kind.Items[$typeName]
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }

    if ($Help.Notes) {
        $Writer.WriteStartElement('maml', 'alertSet', $Ns.maml)
        $Writer.WriteStartElement('maml', 'alert', $Ns.maml)
        foreach ($p in $Help.Notes) { $Writer.WriteElementString('maml', 'para', $Ns.maml, (ConvertTo-PlainText $p)) }
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }

    $Writer.WriteStartElement('command', 'examples', $Ns.command)
    foreach ($example in $Help.Examples) {
        $Writer.WriteStartElement('command', 'example', $Ns.command)
        $Writer.WriteElementString('maml', 'title', $Ns.maml, "-------------------------- $($example.Title) --------------------------")
        $Writer.WriteElementString('dev', 'code', $Ns.dev, $example.Code)
        $Writer.WriteStartElement('dev', 'remarks', $Ns.dev)
        foreach ($p in $example.Remarks) { $Writer.WriteElementString('maml', 'para', $Ns.maml, (ConvertTo-PlainText $p)) }
        $Writer.WriteElementString('maml', 'para', $Ns.maml, '') # a blank line before the next example
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'relatedLinks', $Ns.command)
    foreach ($link in $Help.Links) {
        $Writer.WriteStartElement('maml', 'navigationLink', $Ns.maml)
        $Writer.WriteElementString('maml', 'linkText', $Ns.maml, $link.Text)
        # Get-Help -Online opens the first link with a URI, and refuses one that is not absolute
        # (about_Rebundle): only web addresses are written, so it falls through to the HelpUri.
        $absolute = $null
        $webUri = if ([uri]::TryCreate($link.Uri, 'Absolute', [ref] $absolute) -and $absolute.Scheme -in 'http', 'https') { $link.Uri } else { '' }
        $Writer.WriteElementString('maml', 'uri', $Ns.maml, $webUri)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteEndElement()
}

<#
.SYNOPSIS
    Compiles docs/help/<Cmdlet>.md into one MAML file for the given (imported) cmdlets.
.OUTPUTS
    Warnings for exported cmdlets without markdown; throws on markdown that names a
    parameter the cmdlet does not have (stale help is worse than none).
#>
function ConvertTo-MamlHelp {
    param(
        [Parameter(Mandatory)] [Management.Automation.CmdletInfo[]] $Command,
        [Parameter(Mandatory)] [string] $SourceFolder,
        [Parameter(Mandatory)] [string] $OutFile
    )
    $helps = @{}
    foreach ($file in Get-ChildItem $SourceFolder -Filter '*-*.md') {
        $help = Read-CmdletHelpMarkdown $file.FullName
        $helps[$help.Name] = $help
    }

    $settings = [Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [Text.UTF8Encoding]::new($false) }
    New-Item -ItemType Directory -Force -Path (Split-Path $OutFile) | Out-Null
    $writer = [Xml.XmlWriter]::Create($OutFile, $settings)
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems', 'http://msh')
        $writer.WriteAttributeString('schema', 'maml')
        foreach ($cmd in $Command | Sort-Object Name) {
            $help = $helps[$cmd.Name]
            if (-not $help) { Write-Warning "No help markdown for $($cmd.Name): add docs/help/$($cmd.Name).md (see docs/help/README.md)."; continue }
            $stale = @($help.Parameters.Keys | Where-Object { -not $cmd.Parameters.ContainsKey($_) })
            if ($stale) { throw "$($help.Path) describes -$($stale -join ', -'), which $($cmd.Name) does not have." }
            Write-Command $writer $cmd $help
        }
        foreach ($name in $helps.Keys | Where-Object { $_ -notin $Command.Name }) {
            Write-Warning "docs/help/$name.md describes a cmdlet this build does not export; skipped."
        }
        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    }
    finally { $writer.Dispose() }
}

# ---- About topics -----------------------------------------------------------------------------

<#
.SYNOPSIS
    docs/help/about_X.md → about_X.help.txt: headings become the upper-case section titles of
    about topics, text is indented four spaces, code eight. Lines are kept as written.
#>
function ConvertTo-AboutHelpText {
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $OutFile)
    $out = [Collections.Generic.List[string]]::new()
    $inCode = $false
    foreach ($line in Get-Content -LiteralPath $Path) {
        if ($line -match '^```') { $inCode = -not $inCode; continue }
        if ($inCode) { $out.Add(('        ' + $line).TrimEnd()); continue }
        $blankBefore = { if ($out.Count -and $out[$out.Count - 1] -ne '') { $out.Add('') } }
        if ($line -match '^# (\S+)') { $out.Add('TOPIC'); $out.Add("    $($Matches[1])"); continue }
        if ($line -match '^## (.+)$') { & $blankBefore; $out.Add($Matches[1].ToUpperInvariant()); continue }
        if ($line -match '^### (.+)$') { & $blankBefore; $out.Add("  $($Matches[1].ToUpperInvariant())"); continue }
        if ($line -match '^\s*$') { & $blankBefore; continue }
        $out.Add('    ' + (ConvertTo-PlainText $line))
    }
    New-Item -ItemType Directory -Force -Path (Split-Path $OutFile) | Out-Null
    [IO.File]::WriteAllLines($OutFile, $out, [Text.UTF8Encoding]::new($false))
}

Export-ModuleMember -Function Read-CmdletHelpMarkdown, ConvertTo-MamlHelp, ConvertTo-AboutHelpText
