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
    # The same changes, each as a real run would be typed ({mode} is where a dry run is asked
    # for), approved where they touch Production, so that only the lease can stop them (issue 21).
    $script:leaseCases = @(
        @{ Cmdlet = 'New-TtmRoleSnapshot'; Script = 'Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base | Select-Object -First 1 | New-TtmRoleSnapshot{mode}' }
        @{ Cmdlet = 'New-TtmRoleSnapshot -ReplaceImage'; Script = 'New-TtmRoleSnapshot -Farm Dev -Role Sidekiq -ReplaceImage{mode}' }
        @{ Cmdlet = 'Set-TtmFarmRole'; Script = 'Set-TtmFarmRole -Farm Production -Role Sidekiq-1-6 -Force{mode}' }
        @{ Cmdlet = 'Set-TtmRoleImage'; Script = 'Set-TtmRoleImage -Role Sidekiq -Image (Get-TtmRole -Name TTM-Base).ImageId -Force{mode}' }
        @{ Cmdlet = 'Invoke-TtmRecycle'; Script = 'Invoke-TtmRecycle -Farm Dev -Timeout 0:1:0{mode}' }
        @{ Cmdlet = 'Invoke-TtmRebundle'; Script = "Invoke-TtmRebundle -SkipOsUpdate -Role NodeAppServer -JournalPath '{folder}/real-{n}.jsonl' -Timeout 0:1:0{mode} 6>`$null" }
        @{ Cmdlet = 'Undo-TtmRebundle'; Script = "Undo-TtmRebundle -Journal '{journal}' -Force{mode}" }
        @{ Cmdlet = 'Remove-TtmRoleVersion'; Script = "Remove-TtmRoleVersion -KeepLatest 1 -JournalPath '{folder}/no-journals' -Force{mode}" }
    )
    $script:backends = @(
        @{ Backend = 'Sandbox'; Cases = $cases + @(@{ Cmdlet = 'Set-TtmSandbox'; Script = 'Set-TtmSandbox -BootDelay 0:0:9 -WhatIf' }); LeaseCases = $leaseCases }
        @{ Backend = 'Aws'; Cases = $cases; LeaseCases = $leaseCases }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'helpers/Ec2Endpoint.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
    Set-Ec2TestCredentials

    # A fleet of the given kind after one approved rebundle of Sidekiq, so every cmdlet has
    # something to do: a journal to undo, an older version to retire, a role to put back.
    function New-WhatIfFleet([string] $Backend) {
        $fleet = New-GuardedFleet -Backend $Backend
        New-Item -ItemType Directory (Join-Path $fleet.Folder 'no-journals') | Out-Null
        $journal = Join-Path $fleet.Folder 'sidekiq.jsonl'
        (Invoke-TtmRebundle -SkipOsUpdate -Role Sidekiq -JournalPath $journal -ApproveProduction -Timeout 0:3:0 6>$null).Status | Should -Be 'Completed'
        $fleet | Add-Member -NotePropertyName Journal -NotePropertyValue $journal -PassThru
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
    # Dry run or real is decided by value, once (TtmCmdlet.IsDryRun): -WhatIf:$false is a real run,
    # $WhatIfPreference = $true a dry one. While this session holds every farm's lease, as another
    # run would, each real run is refused as busy and each dry run plans without asking for a lease.
    It '<Cmdlet>: a real run (-WhatIf:$false, or nothing) is refused while another holds the lease; a dry run (-WhatIf:$true, $WhatIfPreference) takes nothing' -ForEach $LeaseCases {
        $state = if ($fleet.Endpoint) { $null } else { Get-FileHashText $fleet.StateFile }
        $auditLength = (Get-Item $fleet.AuditLog).Length
        $modes = [ordered]@{ 'real, -WhatIf:$false' = @('', ' -WhatIf:$false'); 'real, nothing' = @('', ''); 'dry, -WhatIf:$true' = @('', ' -WhatIf:$true'); 'dry, $WhatIfPreference' = @('$WhatIfPreference = $true; ', '') }
        $n = 0
        $runs = foreach ($mode in $modes.Keys) {
            $n++
            $prefix, $suffix = $modes[$mode]
            $line = $prefix + $Script.Replace('{mode}', $suffix).Replace('{journal}', $fleet.Journal).Replace('{folder}', $fleet.Folder).Replace('{n}', "$n")
            # Errors go to stdout in order with the rest (pwsh writes its stderr apart).
            "`$ErrorView = 'NormalView'; Write-Output '=== $mode'; & { $line } *>&1 | Out-String -Width 400 -Stream"
        }
        $farms = [string[]]@((Get-TtmFarm).Name)
        $held = (Get-SessionFleet).Leases.AcquireFarms($farms, 'a test standing in for another run', $false)
        try {
            # The holder's own lease tags are not the runs' requests: the log starts after them.
            if ($fleet.Endpoint) { Clear-Ec2RequestLog $fleet.Endpoint }
            $output = Invoke-ChildRebundle "$($fleet.Connect); $($runs -join '; ')"
            $mutating = if ($fleet.Endpoint) { @(Get-Ec2RequestLog $fleet.Endpoint | Where-Object mutating) }
        }
        finally {
            $held.Dispose()
        }

        $text = $output -join "`n"
        $byMode = @{}
        foreach ($part in $text -split '(?m)^=== ' | Where-Object { $_ }) {
            $mode, $rest = $part -split "`n", 2
            $byMode[$mode.Trim()] = "$rest"
        }
        foreach ($mode in $modes.Keys) {
            $said = $byMode[$mode]
            $said | Should -Not -BeNullOrEmpty -Because "the $mode run said something ($text)"
            if ($mode -like 'real*') {
                $said | Should -Match 'TtmFarmBusy' -Because "a $mode run asks for the lease another run holds"
                $said | Should -Match 'in use by another run: .*a test standing in for another run' -Because 'the refusal names the holder'
            }
            else {
                $said | Should -Match 'What if:' -Because "a $mode run shows what it would do"
                $said | Should -Not -Match 'TtmFarmBusy' -Because "a $mode run takes no lease"
            }
            $said | Should -Not -Match 'left by an interrupted run' -Because 'surplus is judged under the lease only'
        }
        (Get-Item $fleet.AuditLog).Length | Should -Be $auditLength -Because 'a refused change is not announced, and a dry run announces nothing'
        if ($fleet.Endpoint) {
            $mutating.action | Should -BeNullOrEmpty -Because 'no lease tag, no change: EC2 sees no change request'
        }
        else {
            Get-FileHashText $fleet.StateFile | Should -Be $state
        }
    }

    It 'says nothing about surplus servers while a recycle waits to be refused: they are the other run''s replacements in flight' {
        $session = Get-SessionFleet
        $dev = @($session.Backend.GetFarmRoles([string[]]@('Dev'), [Threading.CancellationToken]::None))[0]
        $held = $session.Leases.AcquireFarms([string[]]@('Dev'), 'a recycle launching replacements', $false)
        try {
            $inFlight = $session.Backend.LaunchServers($dev, 2, [Threading.CancellationToken]::None)
            $output = Invoke-ChildRebundle "`$ErrorView = 'NormalView'; $($fleet.Connect); Invoke-TtmRecycle -Farm Dev -Timeout 0:1:0 -WhatIf:`$false"
        }
        finally {
            if ($inFlight) { $session.Backend.TerminateServers($inFlight, [Threading.CancellationToken]::None) }
            $held.Dispose()
        }
        $text = $output -join "`n"
        $text | Should -Match 'TtmFarmBusy'
        $text | Should -Not -Match 'live servers for a count of|interrupted run' -Because "another run's replacements are not this run's surplus"
    }
}
