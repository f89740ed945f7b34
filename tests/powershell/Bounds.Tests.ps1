# Issue 10, case 12: out-of-range values are refused when parameters bind, before anything
# changes, and broken or hostile input (a damaged Sandbox file, credentials in a URL) gives a
# Ttm error that says what to do, never a raw .NET exception.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force

    function Get-ErrorOf([scriptblock] $Command) {
        $caught = $null
        try { & $Command -ErrorAction Stop | Out-Null } catch { $caught = $_ }
        if (-not $caught) { throw 'The command did not fail.' }
        $caught
    }

    function Get-LiveServerIds { (Get-TtmServer).Id | Sort-Object }
}

Describe 'Bounds checked when parameters bind' {
    BeforeAll { $script:sandbox = New-TestSandbox }

    It '<Command> is refused at binding, naming the range, and changes nothing' -ForEach @(
        @{ Command = "Invoke-TtmRecycle -Farm Dev -Timeout '3000000.00:00:00'"; Range = '1 second to 7 days' }
        @{ Command = "Invoke-TtmRecycle -Farm Dev -Timeout '0:00:00'"; Range = '1 second to 7 days' }
        @{ Command = "Invoke-TtmRebundle -SkipOsUpdate -Timeout '3000000.00:00:00'"; Range = '1 second to 7 days' }
        @{ Command = "Get-TtmServer -Farm Dev -Role Sidekiq | New-TtmRoleSnapshot -Timeout '-0:01:00'"; Range = '1 second to 7 days' }
        @{ Command = "Undo-TtmRebundle -Journal nowhere.jsonl -Timeout '10000.00:00:00'"; Range = '1 second to 7 days' }
        @{ Command = "Set-TtmSandbox -RespawnDelay ([TimeSpan]::MaxValue)"; Range = '0 to 1 day' }
        @{ Command = "Set-TtmSandbox -BootDelay '-0:00:01'"; Range = '0 to 1 day' }
        @{ Command = "Set-TtmSandbox -ImageDelay '2.00:00:00'"; Range = '0 to 1 day' }
        @{ Command = "Invoke-TtmSsh -Address 127.0.0.1 -Command true -Timeout '8.00:00:00'"; Range = '1 second to 7 days' }
        @{ Command = "Test-TtmServer -Address 127.0.0.1 -Check Chef -Timeout '0:00:00'"; Range = '1 second to 7 days' }
        @{ Command = "Update-TtmServerOs -Address 127.0.0.1 -RebootTimeout '30.00:00:00'"; Range = '1 second to 7 days' }
        @{ Command = "Update-TtmServerOs -Address 127.0.0.1 -DpkgLockTimeout '2.00:00:00'"; Range = '0 to 1 day' }
        @{ Command = "Invoke-TtmSsh -Address 127.0.0.1 -Command true -ConnectTimeout '2:00:00'"; Range = '1 second to 1 hour' }
        @{ Command = "Connect-TtmFleet -Aws -EndpointUrl http://127.0.0.1:1/ -Region us-east-1 -PollInterval '0:00:00'"; Range = '0.1 seconds to 1 hour' }
    ) {
        $before = Get-FileHashText $sandbox.StateFile
        $record = Get-ErrorOf ([scriptblock]::Create($Command))
        $record.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError,*'
        $record.Exception | Should -BeOfType ([Management.Automation.ParameterBindingException])
        $record.Exception.Message | Should -Match ([regex]::Escape("from $Range"))
        Get-FileHashText $sandbox.StateFile | Should -Be $before
        (Get-TtmFleet).Backend | Should -Be 'Sandbox'
    }

    It 'takes the limits themselves' {
        Set-TtmSandbox -RespawnDelay '1.00:00:00' -BootDelay 0
        Set-TtmSandbox -RespawnDelay 0
        Invoke-TtmRecycle -Farm Dev -Role Sidekiq -Timeout '7.00:00:00' -WhatIf | Should -BeNullOrEmpty
    }
}

Describe 'A Sandbox file holding values nobody can set' {
    It 'a huge stored delay neither breaks Connect nor Set-TtmSandbox, so it can be fixed' {
        $sandbox = New-TestSandbox
        $state = Get-Content $sandbox.StateFile -Raw | ConvertFrom-Json
        $state.simulation.respawnSeconds = [TimeSpan]::MaxValue.TotalSeconds
        $state | ConvertTo-Json -Depth 20 | Set-Content $sandbox.StateFile

        Connect-TtmFleet -Sandbox -Path $sandbox.Path -AuditLogPath $sandbox.AuditLog | Out-Null
        Invoke-TtmRecycle -Farm Dev -Role Sidekiq -Timeout '0:00:30' | Should -HaveCount 1
        Set-TtmSandbox -RespawnDelay 0
        (Get-Content $sandbox.StateFile -Raw | ConvertFrom-Json).simulation.respawnSeconds | Should -Be 0
    }

    It '"servers": null is TtmStateFileCorrupt naming the field and the file' {
        $sandbox = New-TestSandbox
        $state = Get-Content $sandbox.StateFile -Raw | ConvertFrom-Json
        $state.servers = $null
        $state | ConvertTo-Json -Depth 20 | Set-Content $sandbox.StateFile

        $record = Get-ErrorOf { Connect-TtmFleet -Sandbox -Path $sandbox.Path -AuditLogPath $sandbox.AuditLog }
        $record.FullyQualifiedErrorId | Should -BeLike 'TtmStateFileCorrupt,*'
        $record.Exception.Message | Should -Match 'servers is missing or null'
        $record.Exception.Message | Should -Match ([regex]::Escape($sandbox.StateFile))
    }
}

Describe 'Credentials in a Scalr URL' {
    BeforeAll { $script:sandbox = New-TestSandbox }

    It 'are refused with TtmInvalidArgument, and the password shows nowhere' -ForEach @(
        @{ Url = 'http://ops:Url-Pa55word-9@127.0.0.1:9/' }
        @{ Url = 'https://ops:Url-Pa55word-9@scalr.example.test/api/' }
    ) {
        $password = 'Url-Pa55word-9'
        $secret = ConvertTo-SecureString 'not-the-point' -AsPlainText -Force
        $record = $null
        $streams = try {
            Connect-TtmFleet -Scalr -Url $Url -KeyId APIKEY-1 -Secret $secret -EnvironmentId 5 -Verbose -ErrorAction Stop 4>&1 6>&1
        } catch { $record = $_ }

        $record | Should -Not -BeNullOrEmpty
        $record.FullyQualifiedErrorId | Should -BeLike 'TtmInvalidArgument,*'
        $record.Exception.Message | Should -Match 'must not contain a user name or password'
        $shown = @("$record", $record.Exception.Message, $record.Exception.ToString(), "$($record.TargetObject)", "$($record.ErrorDetails)") +
            @($streams | ForEach-Object { "$_" }) + @(Get-TtmFleet | Format-List * | Out-String)
        $shown | Where-Object { $_ -like "*$password*" } | Should -BeNullOrEmpty
        @($streams | Where-Object { $_ -is [Management.Automation.VerboseRecord] }) | Should -Not -BeNullOrEmpty
        (Get-TtmFleet).Location | Should -Be $sandbox.StateFile # the session stays where it was
    }
}
