# -WhatIf on every changing cmdlet, on the Sandbox and on the loopback EC2 endpoint: it says what
# it would do, and nothing changes — the Sandbox file stays byte-identical, no audit entry is
# written, and EC2 sees no mutating request (issue 12, "Behaviours with no test today").
# Each run is a child pwsh so its "What if:" lines can be read back.

BeforeDiscovery {
    # {journal} is a finished rebundle's journal (for Undo), {folder} a scratch folder of the fleet's.
    $script:cases = @(
        @{ Cmdlet = 'New-TtmRoleSnapshot'; Script = 'Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base | New-TtmRoleSnapshot -WhatIf' }
        @{ Cmdlet = 'New-TtmRoleSnapshot -ReplaceImage'; Script = 'New-TtmRoleSnapshot -Farm Dev -Role Sidekiq -ReplaceImage -WhatIf' }
        @{ Cmdlet = 'Set-TtmFarmRole'; Script = 'Set-TtmFarmRole -Farm Production -Role Sidekiq-1-6 -WhatIf' }
        @{ Cmdlet = 'Set-TtmRoleImage'; Script = 'Set-TtmRoleImage -Role Sidekiq -Image (Get-TtmRole -Name TTM-Base).ImageId -WhatIf' }
        @{ Cmdlet = 'Invoke-TtmRecycle'; Script = 'Invoke-TtmRecycle -Farm Dev, Production -WhatIf' }
        @{ Cmdlet = 'Invoke-TtmRebundle'; Script = "Invoke-TtmRebundle -SkipOsUpdate -Role NodeAppServer -JournalPath '{folder}/whatif.jsonl' -WhatIf 6>`$null" }
        @{ Cmdlet = 'Undo-TtmRebundle'; Script = "Undo-TtmRebundle -Journal '{journal}' -Force -WhatIf" }
        @{ Cmdlet = 'Remove-TtmRoleVersion'; Script = "Remove-TtmRoleVersion -KeepLatest 1 -JournalPath '{folder}/no-journals' -Force -WhatIf" }
    )
    $script:backends = @(
        @{ Backend = 'Sandbox'; Cases = $cases + @(@{ Cmdlet = 'Set-TtmSandbox'; Script = 'Set-TtmSandbox -BootDelay 0:0:9 -WhatIf' }) }
        @{ Backend = 'Aws'; Cases = $cases }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Ec2Endpoint.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
    Set-Ec2TestCredentials

    # A fleet of the given kind after one approved rebundle of Sidekiq, so every cmdlet has
    # something to do: a journal to undo, an older version to retire, a role to put back.
    function New-WhatIfFleet([string] $Backend) {
        $folder = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        New-Item -ItemType Directory $folder, (Join-Path $folder 'no-journals') | Out-Null
        $audit = Join-Path $folder 'audit.log'
        $endpoint = $null
        if ($Backend -eq 'Sandbox') {
            $connect = "Connect-TtmFleet -Sandbox -Path '$folder' -AuditLogPath '$audit' | Out-Null"
            Invoke-Expression $connect
            $zero = [TimeSpan]::Zero
            Set-TtmSandbox -BootDelay $zero -ImageDelay $zero -RespawnDelay ([TimeSpan]::FromSeconds(30))
        }
        else {
            $endpoint = Start-TestEc2Endpoint -BootSeconds 0.2 -ImageSeconds 0.2
            $connect = "Connect-TtmFleet -Aws -EndpointUrl '$($endpoint.Url)' -Region us-east-1 -PollInterval '0:0:0.2' -AuditLogPath '$audit' | Out-Null"
            Invoke-Expression $connect
        }
        $journal = Join-Path $folder 'sidekiq.jsonl'
        (Invoke-TtmRebundle -SkipOsUpdate -Role Sidekiq -JournalPath $journal -ApproveProduction -Timeout 0:3:0 6>$null).Status | Should -Be 'Completed'
        [pscustomobject]@{ Connect = $connect; Folder = $folder; AuditLog = $audit; Journal = $journal; Endpoint = $endpoint; StateFile = Join-Path $folder 'sandbox.json' }
    }
}

AfterAll {
    Stop-TestEc2Endpoint
    Restore-Ec2TestCredentials
}

Describe '-WhatIf changes nothing (<Backend>)' -ForEach $backends {
    BeforeAll {
        $script:fleet = New-WhatIfFleet $Backend
    }

    It '<Cmdlet> -WhatIf says what it would do, and changes nothing' -ForEach $Cases {
        $state = if ($fleet.Endpoint) { $null } else { Get-FileHashText $fleet.StateFile }
        $auditLength = (Get-Item $fleet.AuditLog).Length
        if ($fleet.Endpoint) { Clear-Ec2RequestLog $fleet.Endpoint }
        $line = $Script.Replace('{journal}', $fleet.Journal).Replace('{folder}', $fleet.Folder)

        $output = Invoke-ChildRebundle "$($fleet.Connect); $line"
        $exitCode = $LASTEXITCODE

        $text = $output -join "`n"
        $exitCode | Should -Be 0 -Because $text
        $text | Should -Match 'What if:' -Because 'a -WhatIf that stops early (an error, nothing to do) proves nothing'
        (Get-Item $fleet.AuditLog).Length | Should -Be $auditLength -Because 'a -WhatIf writes no audit entry'
        if ($fleet.Endpoint) {
            $mutating = Get-Ec2RequestLog $fleet.Endpoint | Where-Object mutating
            @($mutating).action | Should -BeNullOrEmpty -Because 'EC2 sees no change request under -WhatIf'
        }
        else {
            Get-FileHashText $fleet.StateFile | Should -Be $state
        }
    }
}
