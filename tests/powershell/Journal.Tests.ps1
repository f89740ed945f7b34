# The rebundle journal under crashes: torn lines, roles made by others, undo run twice, retention.
# Runs made here recycle six servers at a time: every Sandbox batch waits at least one poll round,
# and how many servers a batch takes is not what these tests are about. The runs a test kills
# recycle one at a time, so the kill lands part way.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force

    # Every line of a journal is a whole record: "<checksum> <json>" (or a version-1 JSON line).
    function Get-JournalRecord([string] $Path) {
        Get-Content $Path | ForEach-Object { ($_ -replace '^[0-9a-f]{16} ', '') | ConvertFrom-Json }
    }

    function Get-ServerIds([string] $Farm) { (Get-TtmServer -Farm $Farm).Id | Sort-Object }
}

Describe 'A torn journal' {
    BeforeEach {
        $script:sandbox = New-TestSandbox -Path (New-TestFolder) -Delay 0.1
        $script:journal = Join-Path $sandbox.Path 'j.jsonl'
    }

    It 'sets the torn last line aside, resumes on a clean line, and loses no earlier entry' {
        $before = @{}; Get-TtmRole | ForEach-Object { $before[$_.Name] = $_.ImageId }
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 6 -JournalPath $journal | Out-Null
        $devIds = Get-ServerIds Dev
        # A crash mid-write: the last line (the gate's) loses its end and its newline.
        $bytes = [IO.File]::ReadAllBytes($journal)
        [IO.File]::WriteAllBytes($journal, $bytes[0..($bytes.Length - 12)])
        $lines = @(Get-Content $journal).Count

        $result = Invoke-TtmRebundle -Resume $journal -ApproveProduction -WarningVariable warnings -WarningAction SilentlyContinue

        $result.Status | Should -Be 'Completed'
        "$warnings" | Should -Match "Line $lines of the journal .*j\.jsonl was cut short"
        "$journal.torn-1" | Should -Exist
        $records = Get-JournalRecord $journal    # throws if any line were glued onto another
        $records.type | Should -Contain 'recycle-test.done'
        $records.type | Should -Contain 'finished.done'
        Get-ServerIds Dev | Should -Be $devIds -Because 'the Dev recycle was journalled before the torn line'

        # A second resume sees the whole journal: nothing runs again.
        $hash = Get-FileHashText $sandbox.StateFile
        (Invoke-TtmRebundle -Resume $journal -ApproveProduction -WarningVariable again).Status | Should -Be 'Completed'
        $again | Should -BeNullOrEmpty
        Get-FileHashText $sandbox.StateFile | Should -Be $hash

        # Undo sees every promotion.
        Undo-TtmRebundle -Journal $journal -BatchSize 6 -Force | Out-Null
        Get-TtmRole | ForEach-Object { $_.ImageId | Should -Be $before[$_.Name] -Because "$($_.Name) is back on its old image" }
    }

    It 'refuses a journal with a damaged line in the middle, naming the line' {
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 6 -JournalPath $journal | Out-Null
        $lines = Get-Content $journal
        $lines[3] = $lines[3].Substring(0, 40)
        Set-Content $journal $lines
        $hash = Get-FileHashText $sandbox.StateFile

        $record = $null
        try { Invoke-TtmRebundle -Resume $journal -ApproveProduction -ErrorAction Stop } catch { $record = $_ }

        $record.FullyQualifiedErrorId | Should -BeLike 'TtmJournalCorrupt,*'
        $record.Exception.Message | Should -Match 'Line 4 of the journal'
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }
}

Describe 'A role someone else made under the planned name' {
    It 'is not adopted on resume: TtmRoleConflict, and Production is not touched' {
        $sandbox = New-TestSandbox -Path (New-TestFolder) -Delay 0.1
        $journal = Join-Path $sandbox.Path 'j.jsonl'
        $productionImage = (Get-TtmRole -Name RailsAppServer).ImageId
        $productionIds = Get-ServerIds Production
        # The rebundle is killed while it recycles staging, before its snapshots.
        $pwsh = Get-PwshCommand
        $script = "Import-Module '$(Get-RebundleModulePath)'; Connect-TtmFleet -Sandbox -Path '$($sandbox.Path)' -AuditLogPath '$($sandbox.AuditLog)' | Out-Null; " +
            "Invoke-TtmRebundle -SkipOsUpdate -BatchSize 1 -JournalPath '$journal' -ApproveProduction | Out-Null"
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))
        $child = Start-Process -FilePath $pwsh.Exe -ArgumentList (@($pwsh.Prefix) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded)) -PassThru `
            -RedirectStandardOutput (Join-Path $sandbox.Path 'child.out') -RedirectStandardError (Join-Path $sandbox.Path 'child.err')
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not $child.HasExited -and [DateTime]::UtcNow -lt $deadline) {
            if ((Test-Path $journal) -and (Select-String -Path $journal -Pattern '"recycle-staging.replaced"' -SimpleMatch -Quiet)) { break }
            Start-Sleep -Milliseconds 20
        }
        $child.HasExited | Should -BeFalse -Because 'the run is killed while it recycles staging'
        $child.Kill($true); $child.WaitForExit()
        Get-TtmRole -Name RailsAppServer-1-7 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        # Another session snapshots a Dev server into the name the run planned.
        New-TtmRoleSnapshot -Farm Dev -Role RailsAppServer -Version 1-7 | Out-Null

        $record = $null
        try { Invoke-TtmRebundle -Resume $journal -ApproveProduction -ErrorAction Stop | Out-Null } catch { $record = $_ }

        $record.FullyQualifiedErrorId | Should -BeLike 'TtmRoleConflict,*'
        $record.Exception.Message | Should -Match 'Role RailsAppServer-1-7'
        (Get-TtmRole -Name RailsAppServer).ImageId | Should -Be $productionImage
        Get-ServerIds Production | Should -Be $productionIds
        (Get-TtmFarmRole -Farm Dev -Alias RailsAppServer).Role | Should -Be 'RailsAppServer'
    }
}

Describe 'Undo-TtmRebundle run twice' {
    It 'the second run reports already undone, changes nothing and recycles nothing' {
        $sandbox = New-TestSandbox -Path (New-TestFolder) -Delay 0.1
        $journal = Join-Path $sandbox.Path 'j.jsonl'
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 6 -JournalPath $journal -ApproveProduction | Out-Null
        $first = Undo-TtmRebundle -Journal $journal -BatchSize 6 -Force
        ($first | Where-Object State -eq 'Restored') | Should -Not -BeNullOrEmpty
        ($first | Where-Object OldId) | Should -Not -BeNullOrEmpty -Because 'the first undo recycles'
        $hash = Get-FileHashText $sandbox.StateFile
        $audit = @(Get-Content $sandbox.AuditLog).Count

        $second = Undo-TtmRebundle -Journal $journal -BatchSize 6 -Force -WarningVariable warnings -WarningAction SilentlyContinue

        $second | Should -Not -BeNullOrEmpty
        $second | ForEach-Object { $_.State | Should -Be 'AlreadyUndone' -Because "$($_.Target) was put back by the first undo" }
        "$warnings" | Should -Match 'already undone'
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
        @(Get-Content $sandbox.AuditLog).Count | Should -Be $audit
    }
}

Describe 'Undo-TtmRebundle killed part way' {
    It 'killed after <After>, finishes when run again: every role back, every server on its role''s image, then already undone' -ForEach @(
        @{ After = 'undo.restored' }, @{ After = 'undo.recycled' }
    ) {
        $sandbox = New-TestSandbox -Path (New-TestFolder) -Delay 0.1
        $journal = Join-Path $sandbox.Path 'j.jsonl'
        $before = @{}; Get-TtmRole | ForEach-Object { $before[$_.Name] = $_.ImageId }
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 6 -JournalPath $journal -ApproveProduction | Out-Null
        $pwsh = Get-PwshCommand
        $script = "Import-Module '$(Get-RebundleModulePath)'; Connect-TtmFleet -Sandbox -Path '$($sandbox.Path)' -AuditLogPath '$($sandbox.AuditLog)' | Out-Null; " +
            "Undo-TtmRebundle -Journal '$journal' -BatchSize 1 -Force | Out-Null"
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))
        $child = Start-Process -FilePath $pwsh.Exe -ArgumentList (@($pwsh.Prefix) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded)) -PassThru `
            -RedirectStandardOutput (Join-Path $sandbox.Path 'child.out') -RedirectStandardError (Join-Path $sandbox.Path 'child.err')
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not $child.HasExited -and [DateTime]::UtcNow -lt $deadline) {
            if (Select-String -Path $journal -Pattern "`"$After`"" -SimpleMatch -Quiet) { break }
            Start-Sleep -Milliseconds 20
        }
        $child.HasExited | Should -BeFalse -Because 'the undo is killed before it finishes'
        $child.Kill($true); $child.WaitForExit()

        Undo-TtmRebundle -Journal $journal -BatchSize 6 -Force -WarningAction SilentlyContinue | Out-Null

        Get-TtmRole | ForEach-Object { $_.ImageId | Should -Be $before[$_.Name] -Because "$($_.Name) is back on its old image" }
        $images = @{}; Get-TtmRole -IncludeVersions | ForEach-Object { $images[$_.Name] = $_.ImageId }
        Get-TtmServer -Farm Dev, Production | ForEach-Object { $_.ImageId | Should -Be $images[$_.Role] -Because "$($_.Farm)/$($_.Name) runs its role's image" }
        (Get-TtmFarmRole -Farm Dev).Role | Where-Object { $_ -match '-\d+-\d+$' } | Should -BeNullOrEmpty
        $hash = Get-FileHashText $sandbox.StateFile
        Undo-TtmRebundle -Journal $journal -Force -WarningVariable warnings -WarningAction SilentlyContinue | Out-Null
        "$warnings" | Should -Match 'already undone'
        Get-FileHashText $sandbox.StateFile | Should -Be $hash
    }
}

Describe 'Remove-TtmRoleVersion after a rebundle' {
    It 'keeps what the undo needs, naming the journal, and undo still works' {
        $sandbox = New-TestSandbox -Path (New-TestFolder) -Delay 0.1
        $journal = Join-Path $sandbox.Path 'j.jsonl'
        $before = @{}; Get-TtmRole | ForEach-Object { $before[$_.Name] = $_.ImageId }
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 6 -JournalPath $journal -ApproveProduction | Out-Null

        $removed = Remove-TtmRoleVersion -KeepLatest 1 -JournalPath $sandbox.Path -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue

        "$warnings" | Should -Match ([regex]::Escape("Kept Sidekiq-1-6: undoing the rebundle in $journal"))
        $removed.Name | Should -Not -Contain 'Sidekiq-1-6'
        $state = Get-Content $sandbox.StateFile -Raw | ConvertFrom-Json
        foreach ($image in $before.Values) { $state.images.id | Should -Contain $image }
        Undo-TtmRebundle -Journal $journal -BatchSize 6 -Force -ErrorAction Stop | Out-Null
        Get-TtmRole | ForEach-Object { $_.ImageId | Should -Be $before[$_.Name] -Because "$($_.Name) is back on its old image" }
    }

    It '-Force retires them anyway' {
        $sandbox = New-TestSandbox -Path (New-TestFolder) -Delay 0.1
        $journal = Join-Path $sandbox.Path 'j.jsonl'
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 6 -JournalPath $journal -ApproveProduction | Out-Null
        (Remove-TtmRoleVersion -KeepLatest 1 -JournalPath $sandbox.Path -Force).Name | Should -Contain 'Sidekiq-1-6'
    }
}
