BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force

    # What an operator would compare after a rebundle: who runs what, on which image, and
    # that nothing was made twice. Ids differ between runs; names and relations do not.
    function Get-FleetEndState([string] $StateFile) {
        $state = Get-Content $StateFile -Raw | ConvertFrom-Json
        $roles = @{}; foreach ($r in $state.roles) { $roles[$r.name] = $r.imageId }
        $farms = @{}; foreach ($f in $state.farms) { $farms[$f.id] = $f.name }
        $lines = foreach ($fr in $state.farmRoles) {
            $live = @($state.servers | Where-Object { $_.farmRoleId -eq $fr.id -and -not $_.terminatedAt })
            $onImage = @($live | Where-Object { $_.imageId -eq $roles[$fr.role] }).Count
            "{0}/{1} runs {2}: {3} live, {4} on the role's image" -f $farms[$fr.farmId], $fr.alias, $fr.role, $live.Count, $onImage
        }
        $lines += $state.roles | Sort-Object name | ForEach-Object {
            $twin = $state.roles | Where-Object { $_.name -ne $args[0] } | Where-Object imageId -eq $_.imageId | Select-Object -ExpandProperty name | Sort-Object
            "role {0} shares its image with [{1}]" -f $_.name, ($twin -join ',')
        }
        # Snapshots of versioned roles, and of the base role (named <base>-<date>-<time>).
        $lines += $state.images | Where-Object { -not $_.fails } | ForEach-Object { $_.name -replace '-\d{8}-\d{6}$', '-<stamp>' } |
            Group-Object | ForEach-Object { "image {0} x{1}" -f $_.Name, $_.Count }
        $lines | Sort-Object
    }

    # -CrashAfterEntry N: the child dies as kill -9 would right after journal entry N is on disk
    # (FileJournal's test cut point), so the cut is the same on every run and every machine.
    function Start-ChildRebundle([string] $Path, [string] $Script, [int] $CrashAfterEntry = 0) {
        $pwsh = Get-PwshCommand
        $full = "Import-Module '$(Get-RebundleModulePath)'; Connect-TtmFleet -Sandbox -Path '$Path' -AuditLogPath '$Path/audit.log' | Out-Null; $Script"
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($full))
        if ($CrashAfterEntry) { $env:REBUNDLE_TEST_CRASH_AFTER_ENTRY = $CrashAfterEntry }
        try {
            Start-Process -FilePath $pwsh.Exe -ArgumentList (@($pwsh.Prefix) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded)) -PassThru `
                -RedirectStandardOutput (Join-Path $Path 'child.out') -RedirectStandardError (Join-Path $Path 'child.err')
        }
        finally { Remove-Item Env:REBUNDLE_TEST_CRASH_AFTER_ENTRY -ErrorAction SilentlyContinue }
    }

    # A journal's entry types in order ("plan.begin", "base-image.begin", ...); each line is "<checksum> <json>".
    function Get-JournalTypes([string] $Journal) {
        @(Get-Content $Journal | ForEach-Object { (($_ -split ' ', 2)[1] | ConvertFrom-Json).type })
    }
}

Describe 'Invoke-TtmRebundle' {
    BeforeEach {
        $script:sandbox = New-TestSandbox -Delay 0.1
        $script:journal = Join-Path $sandbox.Path 'rebundle.jsonl'
    }

    It '-WhatIf prints the plan and changes nothing, not even a journal' {
        $hash = Get-FileHashText $sandbox.StateFile
        $plan = Invoke-TtmRebundle -SkipOsUpdate -JournalPath $journal -WhatIf 6>&1 | Out-String
        $lines = @($plan -split '\r?\n' | ForEach-Object Trim | Where-Object { $_ })
        $lines[0] | Should -Be "Rebundle plan (journal: $journal):"
        $lines[1] | Should -BeLike '1. Snapshot the TTM-Base server of Rebundle-Staging into role TTM-Base (image TTM-Base-*); OS update skipped'
        $lines[2..7] | Should -Be @(
            '4. Recycle Rebundle-Staging: 6 server(s) in batches of 1 (6 batch(es))'
            '5. Snapshot 5 role(s): RailsAppServer -> RailsAppServer-1-7, NodeAppServer -> NodeAppServer-1-7, Sidekiq -> Sidekiq-1-7, DevDebug -> DevDebug-1-7, SystemWatcher -> SystemWatcher-1-7'
            '6. Dev runs RailsAppServer-1-7, NodeAppServer-1-7, Sidekiq-1-7, DevDebug-1-7, SystemWatcher-1-7; recycle Dev: 6 server(s) in batches of 1 (6 batch(es))'
            'Gate: production changes need -ApproveProduction'
            '7. Production roles take the new images: RailsAppServer, NodeAppServer, Sidekiq, DevDebug, SystemWatcher'
            '8. Recycle Production: 7 server(s) in batches of 1 (7 batch(es))'
        )
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
        $journal | Should -Not -Exist
    }

    It 'stops at the production gate, with Dev on the new versions and Production untouched' {
        $productionImage = (Get-TtmRole -Name RailsAppServer).ImageId
        $result = Invoke-TtmRebundle -SkipOsUpdate -BatchSize 3 -JournalPath $journal
        $result.Status | Should -Be 'WaitingForApproval'
        $result.Message | Should -Match ([regex]::Escape("-Resume '$journal' -ApproveProduction"))
        $result.NewRoles | Sort-Object | Should -Be @('DevDebug-1-7', 'NodeAppServer-1-7', 'RailsAppServer-1-7', 'Sidekiq-1-7', 'SystemWatcher-1-7')
        (Get-TtmFarmRole -Farm Dev -Alias RailsAppServer).Role | Should -Be 'RailsAppServer-1-7'
        (Get-TtmServer -Farm Dev -Role RailsAppServer).Role | Should -Be 'RailsAppServer-1-7'
        (Get-TtmRole -Name RailsAppServer).ImageId | Should -Be $productionImage
        (Get-TtmServer -Farm Production -Role RailsAppServer).ImageId | Sort-Object -Unique | Should -Be $productionImage
    }

    It 'resumed with approval, promotes and recycles Production without snapshotting again' {
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 3 -JournalPath $journal | Out-Null
        $rolesBefore = (Get-TtmRole -IncludeVersions).Name
        $result = Invoke-TtmRebundle -Resume $journal -ApproveProduction
        $result.Status | Should -Be 'Completed'
        (Get-TtmRole -IncludeVersions).Name | Should -Be $rolesBefore
        $image = (Get-TtmRole -Name RailsAppServer-1-7).ImageId
        (Get-TtmRole -Name RailsAppServer).ImageId | Should -Be $image
        (Get-TtmServer -Farm Production -Role RailsAppServer).ImageId | Sort-Object -Unique | Should -Be $image
        Get-TtmServer -Farm Production | Should -HaveCount 7
    }

    It 'a resumed finished run does nothing more' {
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 3 -JournalPath $journal -ApproveProduction | Out-Null
        $hash = Get-FileHashText $sandbox.StateFile
        (Invoke-TtmRebundle -Resume $journal -ApproveProduction).Status | Should -Be 'Completed'
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }

    It 'refuses to run without -SkipOsUpdate where servers have no SSH, before changing anything' {
        $record = $null
        try { Invoke-TtmRebundle -JournalPath $journal -ErrorAction Stop } catch { $record = $_ }
        $record.FullyQualifiedErrorId | Should -BeLike 'TtmInvalidArgument,*'
        $record.Exception.Message | Should -Match 'SkipOsUpdate'
        $journal | Should -Not -Exist
    }

    It 'Undo-TtmRebundle puts the roles back and recycles onto them' {
        $before = @{}; Get-TtmRole | ForEach-Object { $before[$_.Name] = $_.ImageId }
        $devBefore = (Get-TtmFarmRole -Farm Dev).Role
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 3 -JournalPath $journal -ApproveProduction | Out-Null
        (Get-TtmRole -Name Sidekiq).ImageId | Should -Not -Be $before['Sidekiq']

        Undo-TtmRebundle -Journal $journal -BatchSize 3 -Force | Out-Null

        Get-TtmRole | ForEach-Object { $_.ImageId | Should -Be $before[$_.Name] -Because "$($_.Name) is back on its old image" }
        (Get-TtmFarmRole -Farm Dev).Role | Should -Be $devBefore
        (Get-TtmServer -Farm Production -Role Sidekiq).ImageId | Should -Be $before['Sidekiq']
        (Get-TtmServer -Farm Dev -Role Sidekiq).Role | Should -Be 'Sidekiq'
    }
}

Describe 'A rebundle killed part way' {
    BeforeAll {
        # The reference: one uninterrupted run.
        $script:reference = New-TestSandbox -Delay 0.1
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 2 -JournalPath (Join-Path $reference.Path 'j.jsonl') -ApproveProduction | Out-Null
        $script:expected = Get-FleetEndState $reference.StateFile
        $script:referenceTypes = Get-JournalTypes (Join-Path $reference.Path 'j.jsonl')
    }

    It 'resumes to the same end state when the process dies right after journal entry <Entry> (<Type>)' -ForEach @(
        # With -BatchSize 2 the journal runs: plan 1, base-image 2-6, recycle-staging 7-15,
        # snapshot 16-27, swap-test 28-39, recycle-test 40-48, gate 49, promote 50-61,
        # recycle-production 62-71, finished 72: every step is cut at least once.
        @{ Entry = 2; Type = 'base-image.begin' }, @{ Entry = 4; Type = 'base-image.image' }, @{ Entry = 6; Type = 'base-image.done' }
        @{ Entry = 10; Type = 'recycle-staging.replaced' }, @{ Entry = 14; Type = 'recycle-staging.replaced' }, @{ Entry = 18; Type = 'snapshot.image' }
        @{ Entry = 22; Type = 'snapshot.role' }, @{ Entry = 26; Type = 'snapshot.role' }, @{ Entry = 30; Type = 'swap-test.swapped' }
        @{ Entry = 35; Type = 'swap-test.swapping' }, @{ Entry = 40; Type = 'recycle-test.begin' }, @{ Entry = 45; Type = 'recycle-test.replaced' }
        @{ Entry = 50; Type = 'promote.begin' }, @{ Entry = 55; Type = 'promote.promoting' }, @{ Entry = 60; Type = 'promote.promoted' }
        @{ Entry = 64; Type = 'recycle-production.replaced' }, @{ Entry = 68; Type = 'recycle-production.replaced' }
    ) {
        $referenceTypes.Count | Should -BeGreaterThan $Entry -Because 'the cut comes before the run finishes'
        $sandbox = New-TestSandbox -Delay 0.1
        $journal = Join-Path $sandbox.Path 'j.jsonl'
        $child = Start-ChildRebundle $sandbox.Path "Invoke-TtmRebundle -SkipOsUpdate -BatchSize 2 -JournalPath '$journal' -ApproveProduction | Out-Null" -CrashAfterEntry $Entry
        if (-not $child.WaitForExit(90000)) {
            $child.Kill($true)
            throw "The run did not die at journal entry $Entry within 90 s; it was killed and the test fails."
        }

        # It died exactly at the entry asked for, with the same entries as the uninterrupted run so far.
        $types = Get-JournalTypes $journal
        $types | Should -HaveCount $Entry
        $types[-1] | Should -Be $Type
        $types | Should -Be $referenceTypes[0..($Entry - 1)]

        $result = Invoke-TtmRebundle -Resume $journal -ApproveProduction
        $result.Status | Should -Be 'Completed'
        $actual = Get-FleetEndState $sandbox.StateFile
        Compare-Object $expected $actual | ForEach-Object { "{0} {1}" -f $_.SideIndicator, $_.InputObject } | Should -BeNullOrEmpty
    }
}

Describe 'The audit log' {
    It 'records who changed what, before and after, for every change' {
        $sandbox = New-TestSandbox
        $snapshot = New-TtmRoleSnapshot -Farm Rebundle-Staging -Role Sidekiq
        $snapshot | Set-TtmFarmRole -Farm Dev
        $old = (Get-TtmRole -Name Sidekiq).ImageId
        $snapshot | Set-TtmRoleImage -Force
        Invoke-TtmRecycle -Farm Dev -Role Sidekiq | Out-Null

        $log = Get-TtmAuditLog
        $log.Action | Should -Be @('CreateImage', 'CreateRole', 'SetFarmRoleRole', 'SetRoleImage', 'LaunchServer', 'TerminateServer')
        $log.User | Sort-Object -Unique | Should -Be "$([Environment]::UserName)@$([Environment]::MachineName)"
        $log.Backend | Sort-Object -Unique | Should -Be 'Sandbox'
        $swap = $log | Where-Object Action -eq 'SetFarmRoleRole'
        $swap.Target | Should -Be 'Dev/Sidekiq'
        $swap.Before | Should -Be 'Sidekiq'
        $swap.After | Should -Be 'Sidekiq-1-7'
        $image = $log | Where-Object Action -eq 'SetRoleImage'
        $image.Before | Should -Be $old
        $image.After | Should -Be $snapshot.ImageId
        (Get-TtmAuditLog -Target 'Dev/*' -Action *Server).Action | Should -Be @('LaunchServer', 'TerminateServer')
        Get-TtmAuditLog -Last 1 | Select-Object -ExpandProperty Action | Should -Be 'TerminateServer'
        Get-Content $sandbox.AuditLog | ForEach-Object { { $_ | ConvertFrom-Json } | Should -Not -Throw }
    }

    It '-WhatIf writes nothing to the audit log' {
        $sandbox = New-TestSandbox
        Invoke-TtmRecycle -Farm Dev -WhatIf
        Get-TtmRole -Latest | Set-TtmFarmRole -Farm Dev -WhatIf -WarningAction SilentlyContinue
        $sandbox.AuditLog | Should -Not -Exist
    }
}

Describe 'Remove-TtmRoleVersion' {
    BeforeEach { $script:sandbox = New-TestSandbox }

    It 'keeps the newest versions and any version a farm runs; deletes unshared images only' {
        foreach ($minor in 7..9) { New-TtmRoleSnapshot -Farm Rebundle-Staging -Role Sidekiq -Version "1-$minor" | Out-Null }
        Set-TtmFarmRole -Farm Dev -Role Sidekiq-1-7
        $shared = (Get-TtmRole -Name Sidekiq-1-6).ImageId

        $removed = Remove-TtmRoleVersion -Role Sidekiq -KeepLatest 1 -Force

        $removed.Name | Should -Be @('Sidekiq-1-8', 'Sidekiq-1-6')
        (Get-TtmRole -Name Sidekiq -IncludeVersions).Name | Should -Be @('Sidekiq', 'Sidekiq-1-7', 'Sidekiq-1-9')
        $state = Get-Content $sandbox.StateFile -Raw | ConvertFrom-Json
        $state.images.id | Should -Contain $shared -Because 'the production role Sidekiq still uses that image'
    }

    It 'retires a role together with an image nobody else uses' {
        New-TtmRoleSnapshot -Farm Rebundle-Staging -Role NodeAppServer -Version 1-7 | Out-Null
        $lonely = (New-TtmRoleSnapshot -Farm Rebundle-Staging -Role NodeAppServer -Version 1-5).ImageId
        Remove-TtmRoleVersion -Role NodeAppServer -KeepLatest 2 -Force | Out-Null
        $state = Get-Content $sandbox.StateFile -Raw | ConvertFrom-Json
        $state.images.id | Should -Not -Contain $lonely
    }

    It 'never retires a role still in use, even with -KeepLatest 1' {
        Set-TtmFarmRole -Farm Dev -Role RailsAppServer-1-6
        New-TtmRoleSnapshot -Farm Rebundle-Staging -Role RailsAppServer | Out-Null
        Remove-TtmRoleVersion -Role RailsAppServer -KeepLatest 1 -Force | Should -BeNullOrEmpty
        Get-TtmRole -Name RailsAppServer-1-6 | Should -Not -BeNullOrEmpty
    }

    It '-WhatIf retires nothing' {
        $hash = Get-FileHashText $sandbox.StateFile
        Remove-TtmRoleVersion -KeepLatest 1 -WhatIf
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }
}
