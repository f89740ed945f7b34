# Issue 10, case 13 and the README/help drift: the rebundle's plan and status go through the
# information stream (the host still shows them; scripts silence or capture them), -WhatIf
# -PassThru returns the plan as an object, README's commands work as printed, and -Resume
# takes the original run's parameters when they match the journal.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force

    function Get-ErrorOf([scriptblock] $Command) {
        $caught = $null
        try { & $Command -ErrorAction Stop | Out-Null } catch { $caught = $_ }
        if (-not $caught) { throw 'The command did not fail.' }
        $caught
    }
}

Describe 'The plan in the information stream' {
    BeforeEach {
        $script:sandbox = New-TestSandbox -Delay 0.1
        $script:journal = Join-Path $sandbox.Path 'rebundle.jsonl'
    }

    It 'the host shows the plan, and 6>$null silences it (a real host, in a child process)' {
        $output = Invoke-ChildRebundle -Script @"
Connect-TtmFleet -Sandbox -Path '$($sandbox.Path)' -AuditLogPath '$($sandbox.AuditLog)' | Out-Null
'--shown--'
Invoke-TtmRebundle -SkipOsUpdate -WhatIf
'--silenced--'
Invoke-TtmRebundle -SkipOsUpdate -WhatIf 6>`$null
'--end--'
"@
        $text = $output -join "`n"
        $shown = $text.Substring($text.IndexOf('--shown--'), $text.IndexOf('--silenced--') - $text.IndexOf('--shown--'))
        $silenced = $text.Substring($text.IndexOf('--silenced--'))
        $shown | Should -Match 'Rebundle plan \(journal: '
        $shown | Should -Match '8\. Recycle Production: 7 server'
        $silenced | Should -Not -Match 'Rebundle plan \(journal'
        $silenced | Should -Not -Match 'Recycle Production'
        $silenced | Should -Match '--end--'
    }

    It '6>&1 captures the plan as information records tagged Rebundle.Plan, and *>&1 | Out-String holds it' {
        $records = Invoke-TtmRebundle -SkipOsUpdate -JournalPath $journal -WhatIf 6>&1
        $records | Should -Not -BeNullOrEmpty
        $records | ForEach-Object { $_ | Should -BeOfType ([Management.Automation.InformationRecord]) }
        $records | ForEach-Object { $_.Tags | Should -Contain 'Rebundle.Plan' }
        "$($records[0].MessageData)" | Should -Be "Rebundle plan (journal: $journal):"
        (Invoke-TtmRebundle -SkipOsUpdate -JournalPath $journal -WhatIf *>&1 | Out-String) | Should -Match '7\. Production roles take the new images'
        $journal | Should -Not -Exist
    }

    It 'a run writes its status through the stream too, and returns its result (after the plan, with -PassThru)' {
        $all = Invoke-TtmRebundle -SkipOsUpdate -Role Sidekiq -BatchSize 6 -JournalPath $journal -PassThru 6>&1
        $status = $all | Where-Object { $_ -is [Management.Automation.InformationRecord] -and $_.Tags -contains 'Rebundle.Status' }
        $objects = @($all | Where-Object { $_ -isnot [Management.Automation.InformationRecord] })
        $objects | Should -HaveCount 2
        $objects[0].GetType().Name | Should -Be 'RebundlePlanReport'
        $objects[1].Status | Should -Be 'WaitingForApproval'
        "$($status.MessageData)" | Should -Be $objects[1].Message
    }

    It '-WhatIf -PassThru returns the plan as one object; -WhatIf alone returns nothing' {
        $hash = Get-FileHashText $sandbox.StateFile
        Invoke-TtmRebundle -SkipOsUpdate -JournalPath $journal -WhatIf 6>$null | Should -BeNullOrEmpty
        $plan = Invoke-TtmRebundle -SkipOsUpdate -Role Sidekiq, RailsAppServer -BatchSize 2 -JournalPath $journal -WhatIf -PassThru 6>$null

        $plan | Should -HaveCount 1
        $plan.GetType().Name | Should -Be 'RebundlePlanReport'
        $plan.Journal | Should -Be $journal
        $plan.Snapshots['Sidekiq'] | Should -Be 'Sidekiq-1-7'
        $plan.Snapshots['RailsAppServer'] | Should -Be 'RailsAppServer-1-7'
        $plan.Promotions | Sort-Object | Should -Be @('RailsAppServer', 'Sidekiq')
        $plan.Servers['Production'] | Should -Be 7
        $plan.Servers['Dev'] | Should -Be 6
        $plan.BatchSize | Should -Be 2
        $plan.Steps | Should -Contain '8. Recycle Production: 7 server(s) in batches of 2 (4 batch(es))'
        "$plan" | Should -Match 'Rebundle plan \(journal: .*\n  1\. Snapshot the TTM-Base server'
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
        $journal | Should -Not -Exist
    }
}

Describe 'README and help as printed' {
    BeforeEach { $script:sandbox = New-TestSandbox -Delay 0.1 }

    It 'Invoke-TtmRebundle -WhatIf works on the Sandbox: the plan, and what the OS update needs to run' {
        $hash = Get-FileHashText $sandbox.StateFile
        $lines = Invoke-TtmRebundle -WhatIf 6>&1 | ForEach-Object { "$($_.MessageData)" }
        $lines[0] | Should -Match '^Rebundle plan \(journal: (.+)\):$'
        $defaultJournal = [regex]::Match($lines[0], '\(journal: (.+)\):$').Groups[1].Value
        $lines | Should -Contain '  8. Recycle Production: 7 server(s) in batches of 1 (7 batch(es))'
        $lines[-1] | Should -Match 'To run it: .*needs SSH.*-SkipOsUpdate'
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
        $defaultJournal | Should -Not -Exist
    }

    It 'Invoke-TtmRebundle without -SkipOsUpdate still refuses to run on the Sandbox, before anything changes' {
        $hash = Get-FileHashText $sandbox.StateFile
        $record = Get-ErrorOf { Invoke-TtmRebundle -JournalPath (Join-Path $sandbox.Path 'j.jsonl') 6>$null }
        $record.FullyQualifiedErrorId | Should -BeLike 'TtmInvalidArgument,*'
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }

    It 'Get-TtmFarm | Get-TtmFarmRole lists the farm roles of exactly the piped farms' {
        $roles = Get-TtmFarm -Name Dev | Get-TtmFarmRole
        $roles | Should -HaveCount 6
        $roles.Farm | Sort-Object -Unique | Should -Be 'Dev'
        ('Dev', 'Production' | Get-TtmFarm | Get-TtmFarmRole).Farm | Sort-Object -Unique | Should -Be @('Dev', 'Production')
    }
}

Describe '-Resume with the original parameters' {
    BeforeAll {
        $script:sandbox = New-TestSandbox -Delay 0.1
        $script:journal = Join-Path $sandbox.Path 'rebundle.jsonl'
        Invoke-TtmRebundle -SkipOsUpdate -Role Sidekiq -JournalPath $journal 6>$null | Out-Null
    }

    It 'refuses parameters that differ from the journal, naming each difference, and changes nothing' -ForEach @(
        @{ Extra = '-Role RailsAppServer'; Named = '-Role RailsAppServer (journal: Sidekiq)' }
        @{ Extra = '-Role Sidekiq -BatchSize 3'; Named = '-BatchSize 3 (journal: 1)' }
        @{ Extra = '-Role Sidekiq -SkipOsUpdate:$false'; Named = '-SkipOsUpdate $false (journal: $true)' }
        @{ Extra = '-TestFarm Production'; Named = '-TestFarm Production (journal: Dev)' }
        @{ Extra = '-JournalPath elsewhere.jsonl'; Named = 'is not the journal being resumed' }
    ) {
        $hash = Get-FileHashText $sandbox.StateFile
        $journalHash = Get-FileHashText $journal
        $record = Get-ErrorOf ([scriptblock]::Create("Invoke-TtmRebundle -Resume '$journal' $Extra -ApproveProduction 6>`$null"))
        $record.FullyQualifiedErrorId | Should -BeLike 'TtmInvalidArgument,*'
        $record.Exception.Message | Should -BeLike "*$Named*"
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
        Get-FileHashText $journal | Should -Be $journalHash
    }

    It 'takes the original command line plus -Resume and finishes the journal''s plan' {
        $result = Invoke-TtmRebundle -Resume $journal -SkipOsUpdate -Role Sidekiq -JournalPath $journal -ApproveProduction 6>$null
        $result.Status | Should -Be 'Completed'
        (Get-TtmRole -Name Sidekiq).ImageId | Should -Be (Get-TtmRole -Name Sidekiq-1-7).ImageId
        (Get-TtmRole -Name RailsAppServer-1-7 -ErrorAction SilentlyContinue) | Should -BeNullOrEmpty
    }
}
