# The rebundle journal under crashes: torn lines, roles made by others, undo run twice, retention.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force

    # Every line of a journal is a whole record: "<checksum> <json>" (or a version-1 JSON line).
    function Get-JournalRecord([string] $Path) {
        Get-Content $Path | ForEach-Object { ($_ -replace '^[0-9a-f]{16} ', '') | ConvertFrom-Json }
    }

    function Get-ServerIds([string] $Farm) { (Get-TtmServer -Farm $Farm).Id | Sort-Object }
}

Describe 'A torn journal' {
    BeforeEach {
        $script:sandbox = New-TestSandbox -Delay 0.1
        $script:journal = Join-Path $sandbox.Path 'j.jsonl'
    }

    It 'sets the torn last line aside, resumes on a clean line, and loses no earlier entry' {
        $before = @{}; Get-TtmRole | ForEach-Object { $before[$_.Name] = $_.ImageId }
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 3 -JournalPath $journal | Out-Null
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
        Undo-TtmRebundle -Journal $journal -BatchSize 3 -Force | Out-Null
        Get-TtmRole | ForEach-Object { $_.ImageId | Should -Be $before[$_.Name] -Because "$($_.Name) is back on its old image" }
    }

    It 'refuses a journal with a damaged line in the middle, naming the line' {
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 3 -JournalPath $journal | Out-Null
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
