# Bad input, as a careless operator and a hostile file give it (issue 21): every case fails with
# a stable error id and its category, a message that names no .NET type, carries no stack trace
# and no secret, and the fleet exactly as it was (the Sandbox file byte for byte, no audit entry,
# no change request to EC2). docs/safety.md lists the table ("What bad input gets").

BeforeDiscovery {
    # Binding errors are PowerShell's own ids: a value out of a declared range, and text that is not a time span.
    $outOfRange = 'ParameterArgumentValidationError'
    $notATimeSpan = 'ParameterArgumentTransformationError'

    # {Arrange} runs first and is part of "before"; every {Action} runs connected to a fresh fleet.
    $script:sandboxCases = @(
        # Connecting
        @{ Name = 'Connect -Sandbox -Path: an existing file'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Sandbox -Path $files.Garbage } }
        @{ Name = 'Connect -Sandbox -Path: a folder under a file'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Sandbox -Path (Join-Path $files.Garbage 'sandbox') } }
        @{ Name = 'Connect -ConfigurationPath: no such file'; Id = 'TtmConfigInvalid'; Category = 'InvalidData'; Action = { Connect-TtmFleet -Sandbox -Path $fleet.Folder -ConfigurationPath $files.Missing } }
        @{ Name = 'Connect -ConfigurationPath: garbage'; Id = 'TtmConfigInvalid'; Category = 'InvalidData'; Action = { Connect-TtmFleet -Sandbox -Path $fleet.Folder -ConfigurationPath $files.Garbage } }
        @{ Name = 'Connect -ConfigurationPath: valid JSON, an array'; Id = 'TtmConfigInvalid'; Category = 'InvalidData'; Action = { Connect-TtmFleet -Sandbox -Path $fleet.Folder -ConfigurationPath $files.JsonArray } }
        @{ Name = 'Connect -ConfigurationPath: valid JSON, a number where names go'; Id = 'TtmConfigInvalid'; Category = 'InvalidData'; Action = { Connect-TtmFleet -Sandbox -Path $fleet.Folder -ConfigurationPath $files.ConfigWrongType } }
        @{ Name = 'Connect -Aws -Region: not a region'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Aws -Region 'in valid!' } }
        @{ Name = 'Connect -Aws -Region: a region name in capitals with a space'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Aws -Region 'US EAST 1' -EndpointUrl 'http://127.0.0.1:9/' } }
        @{ Name = 'Connect -Aws -EndpointUrl: not a URL'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Aws -Region us-east-1 -EndpointUrl 'not a url' } }
        @{ Name = 'Connect -Aws -EndpointUrl: ftp'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Aws -Region us-east-1 -EndpointUrl 'ftp://127.0.0.1/' } }
        @{ Name = 'Connect -Aws -ProfileName: no such profile'; Id = 'TtmAccessDenied'; Category = 'PermissionDenied'; Action = { Connect-TtmFleet -Aws -Region us-east-1 -ProfileName 'no-such-profile' } }
        @{ Name = 'Connect -Aws -PollInterval: not a time span'; Id = $notATimeSpan; Category = 'InvalidData'; Action = { Connect-TtmFleet -Aws -Region us-east-1 -PollInterval 'soon' } }
        @{ Name = 'Connect -Aws -PollInterval: out of range'; Id = $outOfRange; Category = 'InvalidData'; Action = { Connect-TtmFleet -Aws -Region us-east-1 -PollInterval '0:0:0' } }
        @{ Name = 'Connect -Scalr -Url: not a URL'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Scalr -Url 'not a url' -KeyId k -Secret $secret -EnvironmentId 1 } }
        @{ Name = 'Connect -Scalr -Url: ftp'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Scalr -Url 'ftp://127.0.0.1/' -KeyId k -Secret $secret -EnvironmentId 1 } }
        @{ Name = 'Connect -Scalr -Url: a password in it'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Scalr -Url "https://ops:$secretText@127.0.0.1:9/" -KeyId k -Secret $secret -EnvironmentId 1 } }
        @{ Name = 'Connect -Scalr -Url: relative, with a password'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Scalr -Url "ops:$secretText@scalr" -KeyId k -Secret $secret -EnvironmentId 1 } }
        @{ Name = 'Connect -Scalr -EnvironmentId: not a number'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Scalr -Url 'https://127.0.0.1:9/' -KeyId k -Secret $secret -EnvironmentId 'abc' } }
        @{ Name = 'Connect -Scalr -AwsRegion: not a region'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Scalr -Url 'https://127.0.0.1:9/' -KeyId k -Secret $secret -EnvironmentId 1 -AwsRegion 'in valid!' } }
        @{ Name = 'Connect -Scalr -Ec2EndpointUrl: not a URL'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Connect-TtmFleet -Scalr -Url 'https://127.0.0.1:9/' -KeyId k -Secret $secret -EnvironmentId 1 -Ec2EndpointUrl 'not a url' } }
        @{ Name = 'Connect -Scalr: no key id'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { $env:SCALR_KEY_ID = $null; Connect-TtmFleet -Scalr -Url 'https://127.0.0.1:9/' -Secret $secret -EnvironmentId 1 } }
        # The Sandbox's own file, damaged
        @{ Name = 'the Sandbox file: garbage'; Id = 'TtmStateFileCorrupt'; Category = 'ReadError'; Arrange = { Set-Content $fleet.StateFile 'not { json' }; Action = { Get-TtmFarm } }
        @{ Name = 'the Sandbox file: valid JSON, an array'; Id = 'TtmStateFileCorrupt'; Category = 'ReadError'; Arrange = { Set-Content $fleet.StateFile '[1, 2, 3]' }; Action = { Get-TtmServer -Farm Dev } }
        @{ Name = 'the Sandbox file: valid JSON, servers null'; Id = 'TtmStateFileCorrupt'; Category = 'ReadError'; Arrange = { Set-Content $fleet.StateFile '{ "servers": null }' }; Action = { Get-TtmRole } }
        # Names
        @{ Name = 'Get-TtmFarmRole -Farm: no such farm'; Id = 'TtmFarmNotFound'; Category = 'ObjectNotFound'; Action = { Get-TtmFarmRole -Farm Deb } }
        @{ Name = 'Get-TtmFarmRole -Alias: no such farm role'; Id = 'TtmFarmRoleNotFound'; Category = 'ObjectNotFound'; Action = { Get-TtmFarmRole -Farm Dev -Alias Sidekik } }
        @{ Name = 'Get-TtmRole -Name: no such role'; Id = 'TtmRoleNotFound'; Category = 'ObjectNotFound'; Action = { Get-TtmRole -Name Sidekiq-9-9 } }
        @{ Name = 'Get-TtmServer -Farm: no such farm'; Id = 'TtmFarmNotFound'; Category = 'ObjectNotFound'; Action = { Get-TtmServer -Farm Prod } }
        @{ Name = 'Get-TtmNextRoleVersion: three numbers'; Id = 'TtmRoleNameMalformed'; Category = 'InvalidArgument'; Action = { Get-TtmNextRoleVersion -Role RailsAppServer-1-6-7 } }
        @{ Name = 'Get-TtmNextRoleVersion: no base name'; Id = 'TtmRoleNameMalformed'; Category = 'InvalidArgument'; Action = { Get-TtmNextRoleVersion -Role '-1-6' } }
        @{ Name = 'Get-TtmNextRoleVersion: a space in the name'; Id = 'TtmRoleNameMalformed'; Category = 'InvalidArgument'; Action = { Get-TtmNextRoleVersion -Role 'Rails App' } }
        @{ Name = 'Set-TtmFarmRole -Farm: no such farm'; Id = 'TtmFarmNotFound'; Category = 'ObjectNotFound'; Action = { Set-TtmFarmRole -Farm Deb -Role Sidekiq-1-6 } }
        @{ Name = 'Set-TtmFarmRole -Role: no such role'; Id = 'TtmRoleNotFound'; Category = 'ObjectNotFound'; Action = { Set-TtmFarmRole -Farm Dev -Role Sidekiq-9-9 } }
        @{ Name = 'Set-TtmFarmRole -Alias: no such farm role'; Id = 'TtmFarmRoleNotFound'; Category = 'ObjectNotFound'; Action = { Set-TtmFarmRole -Farm Dev -Alias Sidekik -Role Sidekiq-1-6 } }
        @{ Name = 'Set-TtmRoleImage -Role: no such role'; Id = 'TtmRoleNotFound'; Category = 'ObjectNotFound'; Action = { Set-TtmRoleImage -Role Sidekik -Image (Get-TtmRole -Name Sidekiq).ImageId } }
        @{ Name = 'Set-TtmRoleImage -Image: no such image'; Id = 'TtmImageNotFound'; Category = 'ObjectNotFound'; Action = { Set-TtmRoleImage -Role Reports -Image ami-00000000000000dead -Force } }
        @{ Name = 'New-TtmRoleSnapshot -Version: not a version'; Id = 'TtmVersionMalformed'; Category = 'InvalidArgument'; Action = { New-TtmRoleSnapshot -Farm Dev -Role Reports -Version 'one-two' } }
        @{ Name = 'New-TtmRoleSnapshot -Version: one that exists'; Id = 'TtmRoleAlreadyExists'; Category = 'ResourceExists'; Action = { New-TtmRoleSnapshot -Farm Dev -Role Reports -Version 1-6 } }
        @{ Name = 'New-TtmRoleSnapshot -Farm: no such farm'; Id = 'TtmFarmNotFound'; Category = 'ObjectNotFound'; Action = { New-TtmRoleSnapshot -Farm Deb -Role Reports } }
        @{ Name = 'New-TtmRoleSnapshot -Role: no such farm role'; Id = 'TtmFarmRoleNotFound'; Category = 'ObjectNotFound'; Action = { New-TtmRoleSnapshot -Farm Dev -Role Sidekik } }
        @{ Name = 'New-TtmRoleSnapshot: nothing piped'; Id = 'TtmEmptyInput'; Category = 'InvalidArgument'; Action = { @() | New-TtmRoleSnapshot } }
        @{ Name = 'New-TtmRoleSnapshot: one server piped twice'; Id = 'TtmDuplicateInput'; Category = 'ResourceExists'; Action = { $s = Get-TtmServer -Farm Dev -Role Reports; $s, $s | New-TtmRoleSnapshot -Timeout 0:1:0 } }
        @{ Name = 'New-TtmRoleSnapshot -Timeout: not a time span'; Id = $notATimeSpan; Category = 'InvalidData'; Action = { New-TtmRoleSnapshot -Farm Dev -Role Reports -Timeout 'soon' } }
        @{ Name = 'Invoke-TtmRecycle -Farm: no such farm'; Id = 'TtmFarmNotFound'; Category = 'ObjectNotFound'; Action = { Invoke-TtmRecycle -Farm Deb -Timeout 0:1:0 } }
        @{ Name = 'Invoke-TtmRecycle -Alias: no such farm role'; Id = 'TtmFarmRoleNotFound'; Category = 'ObjectNotFound'; Action = { Invoke-TtmRecycle -Farm Dev -Alias Sidekik -Timeout 0:1:0 } }
        @{ Name = 'Invoke-TtmRecycle -BatchSize: zero'; Id = $outOfRange; Category = 'InvalidData'; Action = { Invoke-TtmRecycle -Farm Dev -BatchSize 0 } }
        @{ Name = 'Invoke-TtmRecycle -BatchSize: a million'; Id = $outOfRange; Category = 'InvalidData'; Action = { Invoke-TtmRecycle -Farm Dev -BatchSize 1000000 } }
        @{ Name = 'Invoke-TtmRecycle -Timeout: not a time span'; Id = $notATimeSpan; Category = 'InvalidData'; Action = { Invoke-TtmRecycle -Farm Dev -Timeout 'in a while' } }
        @{ Name = 'Invoke-TtmRecycle -Timeout: zero'; Id = $outOfRange; Category = 'InvalidData'; Action = { Invoke-TtmRecycle -Farm Dev -Timeout '0:0:0' } }
        @{ Name = 'Invoke-TtmRecycle -Timeout: a year'; Id = $outOfRange; Category = 'InvalidData'; Action = { Invoke-TtmRecycle -Farm Dev -Timeout '365.00:00:00' } }
        @{ Name = 'Invoke-TtmRebundle -Resume: garbage'; Id = 'TtmJournalCorrupt'; Category = 'InvalidData'; Action = { Invoke-TtmRebundle -Resume $files.Garbage -ApproveProduction 6>$null } }
        @{ Name = 'Invoke-TtmRebundle -Resume: valid JSON lines of the wrong shape'; Id = 'TtmJournalCorrupt'; Category = 'InvalidData'; Action = { Invoke-TtmRebundle -Resume $files.JsonLines -ApproveProduction 6>$null } }
        @{ Name = 'Invoke-TtmRebundle -StagingFarm: no such farm'; Id = 'TtmFarmNotFound'; Category = 'ObjectNotFound'; Action = { Invoke-TtmRebundle -SkipOsUpdate -StagingFarm Staging -JournalPath $files.NewJournal -WhatIf 6>$null } }
        @{ Name = 'Invoke-TtmRebundle -Role: no such role'; Id = 'TtmFarmRoleNotFound'; Category = 'ObjectNotFound'; Action = { Invoke-TtmRebundle -SkipOsUpdate -Role Sidekik -JournalPath $files.NewJournal -WhatIf 6>$null } }
        @{ Name = 'Invoke-TtmRebundle -Timeout: not a time span'; Id = $notATimeSpan; Category = 'InvalidData'; Action = { Invoke-TtmRebundle -SkipOsUpdate -Timeout 'soon' -WhatIf 6>$null } }
        @{ Name = 'Undo-TtmRebundle -Journal: no such file'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Undo-TtmRebundle -Journal $files.Missing -Force } }
        @{ Name = 'Undo-TtmRebundle -Journal: garbage'; Id = 'TtmJournalCorrupt'; Category = 'InvalidData'; Action = { Undo-TtmRebundle -Journal $files.Garbage -Force } }
        @{ Name = 'Undo-TtmRebundle -Journal: valid JSON lines of the wrong shape'; Id = 'TtmJournalCorrupt'; Category = 'InvalidData'; Action = { Undo-TtmRebundle -Journal $files.JsonLines -Force } }
        @{ Name = 'Remove-TtmRoleVersion -KeepLatest: zero'; Id = $outOfRange; Category = 'InvalidData'; Action = { Remove-TtmRoleVersion -KeepLatest 0 -Force } }
        @{ Name = 'Remove-TtmRoleVersion -Role: no such role'; Id = 'TtmRoleNotFound'; Category = 'ObjectNotFound'; Action = { Remove-TtmRoleVersion -KeepLatest 1 -Role Nope -JournalPath $files.EmptyFolder -Force } }
        @{ Name = 'Remove-TtmRoleVersion -KeepUndoFor: negative'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Remove-TtmRoleVersion -KeepLatest 1 -KeepUndoFor (New-TimeSpan -Hours -1) } }
        @{ Name = 'Remove-TtmRoleVersion -KeepUndoFor: not a time span'; Id = $notATimeSpan; Category = 'InvalidData'; Action = { Remove-TtmRoleVersion -KeepLatest 1 -KeepUndoFor 'a week' } }
        @{ Name = 'Remove-TtmRoleVersion -JournalPath: a damaged journal'; Id = 'TtmJournalCorrupt'; Category = 'InvalidData'; Action = { Remove-TtmRoleVersion -KeepLatest 1 -JournalPath $files.Garbage -Confirm:$false } }
        @{ Name = 'Remove-TtmRoleVersion -JournalPath: no such path'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Remove-TtmRoleVersion -KeepLatest 1 -JournalPath $files.Missing -Confirm:$false } }
        @{ Name = 'Get-TtmFleetReport -KeepUndoFor: not a time span'; Id = $notATimeSpan; Category = 'InvalidData'; Action = { Get-TtmFleetReport -KeepUndoFor 'a week' } }
        @{ Name = 'Set-TtmSandbox -FailBoot: names nothing'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Set-TtmSandbox -FailBoot 'no/such/thing/at/all' } }
        @{ Name = 'Set-TtmSandbox -NeverBoot: no such farm role'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Set-TtmSandbox -NeverBoot 'Dev/Sidekik' } }
        @{ Name = 'Set-TtmSandbox -FailImage: no such role'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Set-TtmSandbox -FailImage 'Sidekik-1-7' } }
        @{ Name = 'Set-TtmSandbox -Scale: a farm, no alias'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Set-TtmSandbox -Scale @{ Dev = 3 } } }
        @{ Name = 'Set-TtmSandbox -Scale: no such farm role'; Id = 'TtmFarmRoleNotFound'; Category = 'ObjectNotFound'; Action = { Set-TtmSandbox -Scale @{ 'Dev/Sidekik' = 3 } } }
        @{ Name = 'Set-TtmSandbox -BootDelay: not a time span'; Id = $notATimeSpan; Category = 'InvalidData'; Action = { Set-TtmSandbox -BootDelay 'slow' } }
        @{ Name = 'Invoke-TtmSsh -KeyFile: no such file'; Id = 'TtmSshKeyNotFound'; Category = 'ObjectNotFound'; Action = { Get-TtmServer -Farm Dev -Role Reports | Invoke-TtmSsh -Command true -Address 127.0.0.1 -KeyFile $files.Missing } }
    )

    # The inputs that reach EC2's answers: names it does not have, on the loopback endpoint.
    $script:awsCases = @(
        @{ Name = 'Get-TtmFarmRole -Farm: no such farm'; Id = 'TtmFarmNotFound'; Category = 'ObjectNotFound'; Action = { Get-TtmFarmRole -Farm Deb } }
        @{ Name = 'Get-TtmRole -Name: no such role'; Id = 'TtmRoleNotFound'; Category = 'ObjectNotFound'; Action = { Get-TtmRole -Name Sidekiq-9-9 } }
        @{ Name = 'Set-TtmFarmRole -Role: no such role'; Id = 'TtmRoleNotFound'; Category = 'ObjectNotFound'; Action = { Set-TtmFarmRole -Farm Dev -Role Sidekiq-9-9 } }
        @{ Name = 'Set-TtmRoleImage -Image: no such image'; Id = 'TtmImageNotFound'; Category = 'ObjectNotFound'; Action = { Set-TtmRoleImage -Role Reports -Image ami-00000000000000dead -Force } }
        @{ Name = 'New-TtmRoleSnapshot -Version: not a version'; Id = 'TtmVersionMalformed'; Category = 'InvalidArgument'; Action = { New-TtmRoleSnapshot -Farm Dev -Role Reports -Version 'one-two' } }
        @{ Name = 'Invoke-TtmRecycle -Farm: no such farm'; Id = 'TtmFarmNotFound'; Category = 'ObjectNotFound'; Action = { Invoke-TtmRecycle -Farm Deb -Timeout 0:1:0 } }
        @{ Name = 'Remove-TtmRoleVersion -Role: no such role'; Id = 'TtmRoleNotFound'; Category = 'ObjectNotFound'; Action = { Remove-TtmRoleVersion -KeepLatest 1 -Role Nope -JournalPath $files.EmptyFolder -Force } }
        @{ Name = 'Get-TtmNextRoleVersion: three numbers'; Id = 'TtmRoleNameMalformed'; Category = 'InvalidArgument'; Action = { Get-TtmNextRoleVersion -Role RailsAppServer-1-6-7 } }
        @{ Name = 'Set-TtmSandbox: not the Sandbox'; Id = 'TtmInvalidArgument'; Category = 'InvalidArgument'; Action = { Set-TtmSandbox -BootDelay 0:0:1 } }
        @{ Name = 'Invoke-TtmRebundle -Resume: garbage'; Id = 'TtmJournalCorrupt'; Category = 'InvalidData'; Action = { Invoke-TtmRebundle -Resume $files.Garbage -ApproveProduction 6>$null } }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'helpers/Ec2Endpoint.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
    Set-Ec2TestCredentials

    # A secret the cases hand in; no message may carry it.
    $script:secretText = 'Sup3r-S3cret-' + [guid]::NewGuid().ToString('n').Substring(0, 8)
    $script:secret = ConvertTo-SecureString $secretText -AsPlainText -Force

    function New-BadFiles {
        $folder = New-TestFolder
        $files = [pscustomobject]@{
            Folder = $folder
            Missing = Join-Path $folder 'no-such-file.json'
            Garbage = Join-Path $folder 'garbage.jsonl'
            JsonArray = Join-Path $folder 'array.json'
            ConfigWrongType = Join-Path $folder 'wrong-type.json'
            JsonLines = Join-Path $folder 'wrong-shape.jsonl'
            EmptyFolder = Join-Path $folder 'no-journals'
            NewJournal = Join-Path $folder 'new.jsonl'
        }
        Set-Content $files.Garbage "`u{0}`u{1}not json {{{", 'and a second line'
        Set-Content $files.JsonArray '[1, 2, 3]'
        Set-Content $files.ConfigWrongType '{ "protectedFarms": 7 }'
        Set-Content $files.JsonLines '{"a": 1}', '{"b": [2]}'
        New-Item -ItemType Directory $files.EmptyFolder | Out-Null
        $files
    }

    # The first error a script block gives, terminating or not.
    function Get-FirstError([scriptblock] $Action) {
        $ErrorActionPreference = 'Stop'
        try { & $Action | Out-Null } catch { return $_ }
        $null
    }

    # What "the fleet as it was" is read from.
    function Get-FleetState($Fleet) {
        [pscustomobject]@{
            State = if ($Fleet.StateFile -and (Test-Path $Fleet.StateFile)) { Get-FileHashText $Fleet.StateFile }
            Audit = if (Test-Path $Fleet.AuditLog) { (Get-Item $Fleet.AuditLog).Length } else { 0 }
        }
    }

    function Assert-BadInputAnswer($Record, [string] $Id, [string] $Category, $Fleet, $Before) {
        $Record | Should -Not -BeNullOrEmpty -Because "bad input gets an error ($Id)"
        $message = $Record.Exception.Message
        $Record.FullyQualifiedErrorId | Should -Match "^$([regex]::Escape($Id))(\.[^,]+)?," -Because $message
        "$($Record.CategoryInfo.Category)" | Should -Be $Category -Because $message
        $shown = "$message`n$($Record.ErrorDetails.Message)`n$Record"
        $shown | Should -Not -Match '(?m)^\s+at \S+|--- End of' -Because 'a message is not a stack trace'
        $shown | Should -Not -MatchExactly '\b(System|Amazon|Renci|Rebundle|Microsoft)\.[A-Z][A-Za-z]+|[A-Za-z]+Exception\b' -Because "a message names no .NET type: $shown"
        $shown | Should -Not -Match ([regex]::Escape($secretText)) -Because 'a secret is never shown'
        $after = Get-FleetState $Fleet
        $after.State | Should -Be $Before.State -Because 'bad input changes nothing (the Sandbox file byte for byte)'
        $after.Audit | Should -Be $Before.Audit -Because 'bad input writes no audit entry'
    }
}

AfterAll {
    Disconnect-TtmFleet -ErrorAction SilentlyContinue
    Stop-TestEc2Endpoint
    Restore-Ec2TestCredentials
}

Describe 'Bad input gets a clear answer and changes nothing (Sandbox)' {
    BeforeAll {
        $script:fleet = New-GuardedFleet
        $script:files = New-BadFiles
        $script:pristine = [IO.File]::ReadAllBytes($fleet.StateFile)
    }

    AfterEach {
        # Each case starts from the same fleet, connected as it was.
        [IO.File]::WriteAllBytes($fleet.StateFile, $pristine)
        Invoke-Expression $fleet.Connect
    }

    It '<Name>: <Id>' -ForEach $sandboxCases {
        if ($Arrange) { & $Arrange }
        $before = Get-FleetState $fleet

        $record = Get-FirstError $Action

        Assert-BadInputAnswer $record $Id $Category $fleet $before
    }
}

Describe 'Bad input gets a clear answer and changes nothing (EC2 endpoint)' {
    BeforeAll {
        $script:fleet = New-GuardedFleet -Backend Aws
        $script:files = New-BadFiles
    }

    AfterEach {
        Invoke-Expression $fleet.Connect
    }

    It '<Name>: <Id>' -ForEach $awsCases {
        $before = Get-FleetState $fleet
        Clear-Ec2RequestLog $fleet.Endpoint

        $record = Get-FirstError $Action

        Assert-BadInputAnswer $record $Id $Category $fleet $before
        @(Get-Ec2RequestLog $fleet.Endpoint | Where-Object mutating).action | Should -BeNullOrEmpty -Because 'EC2 sees no change request'
    }
}

Describe 'docs/safety.md lists every case of this table' {
    It 'lists "<Name>" as <Id>' -ForEach ($sandboxCases + $awsCases) {
        $doc = Get-Content (Join-Path (Get-RepoRoot) 'docs/safety.md') -Raw

        $doc | Should -Match ([regex]::Escape("| $($Name.Replace('|', '\|')) | ``$Id`` | $Category |"))
    }
}
