# One audit log written by two processes at once is read back whole: every line parses, every
# intent has its outcome, nothing is lost or glued together (issue 12; AppendOnlyFile takes an
# exclusive lock for each line, and this is the test that proves two writers take turns).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
}

Describe 'An audit log shared by two processes' {
    BeforeAll {
        $script:changes = 25
        $script:audit = Join-Path $TestDrive 'shared-audit.log'
        # Two Sandboxes (seeded here, so the children only change them), one audit log.
        $script:sandboxes = 1..2 | ForEach-Object {
            $path = Join-Path $TestDrive "fleet$_"
            Connect-TtmFleet -Sandbox -Path $path -AuditLogPath $audit | Out-Null
            $path
        }
        # Both children start changing at the same moment: each says it is ready (module loaded,
        # connected), and both go when the last is, on a file this process writes.
        $go = Join-Path $TestDrive 'go'
        $pwsh = Get-PwshCommand
        $jobs = foreach ($path in $sandboxes) {
            $script = "Connect-TtmFleet -Sandbox -Path '$path' -AuditLogPath '$audit' | Out-Null; Set-Content '$path.ready' x; " +
                "`$deadline = [DateTime]::UtcNow.AddSeconds(120); while (-not (Test-Path '$go') -and [DateTime]::UtcNow -lt `$deadline) { Start-Sleep -Milliseconds 5 }; " +
                "1..$changes | ForEach-Object { Set-TtmFarmRole -Farm Dev -Alias Reports -Role (@('Reports', 'Reports-1-6')[`$_ % 2]) -ErrorAction Stop | Out-Null }; 'finished'"
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("Import-Module '$(Get-RebundleModulePath)'; $script"))
            Start-ThreadJob -ScriptBlock { param($exe, $prefix, $encoded) & $exe @prefix -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 | ForEach-Object { "$_" } } -ArgumentList $pwsh.Exe, $pwsh.Prefix, $encoded
        }
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while (@($sandboxes | Where-Object { -not (Test-Path "$_.ready") }).Count -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        Set-Content $go x
        $script:outputs = $jobs | Wait-Job -Timeout 300 | Receive-Job
        $jobs | Remove-Job -Force
        $script:lines = @(Get-Content $audit | Where-Object { $_ })
    }

    It 'both writers finished every change' {
        @($outputs | Where-Object { $_ -eq 'finished' }).Count | Should -Be 2 -Because ($outputs -join "`n")
    }

    It 'the writers really overlapped: their entries interleave in the file' {
        # Otherwise one ran after the other and this file proves nothing about concurrency.
        $locations = $lines | ForEach-Object { ($_ | ConvertFrom-Json).location }
        $switches = @(1..($locations.Count - 1) | Where-Object { $locations[$_] -ne $locations[$_ - 1] }).Count
        $switches | Should -BeGreaterThan 2
    }

    It 'holds exactly one intent and one outcome line per change, each a whole JSON object' {
        $entries = $lines | ForEach-Object { $_ | ConvertFrom-Json -ErrorAction Stop }

        $lines | Should -HaveCount (2 * 2 * $changes)
        foreach ($change in $entries | Group-Object change) {
            ($change.Group.phase | Sort-Object) -join ',' | Should -Be 'done,intent' -Because "change $($change.Name) has one intent and one outcome"
        }
        foreach ($path in $sandboxes) {
            @($entries | Where-Object { $_.phase -eq 'intent' -and $_.location -eq (Join-Path $path 'sandbox.json') }).Count | Should -Be $changes
        }
    }

    It 'Get-TtmAuditLog reads back every change as done, with no torn line' {
        $read = Get-TtmAuditLog -Path $audit -WarningVariable warnings 3>$null

        $read | Should -HaveCount (2 * $changes)
        $read.Outcome | Sort-Object -Unique | Should -Be 'Done'
        $warnings | Should -BeNullOrEmpty
    }
}

Describe 'A writer that finds the audit log held by another' {
    It 'waits, changes nothing meanwhile, then writes its entry on a line of its own after the other one' {
        $folder = Join-Path $TestDrive 'held'
        $audit = Join-Path $folder 'audit.log'
        Connect-TtmFleet -Sandbox -Path $folder -AuditLogPath $audit | Out-Null
        Set-TtmFarmRole -Farm Dev -Alias Reports -Role Reports-1-6 | Out-Null
        $other = @(Get-Content $audit)[0]
        $ready = Join-Path $folder 'child-ready'
        $script = "Connect-TtmFleet -Sandbox -Path '$folder' -AuditLogPath '$audit' | Out-Null; Set-Content '$ready' x; " +
            "Set-TtmFarmRole -Farm Dev -Alias Reports -Role Reports -ErrorAction Stop | Out-Null; 'finished'"
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("Import-Module '$(Get-RebundleModulePath)'; $script"))
        $pwsh = Get-PwshCommand

        # Another writer is half way through its line. It holds the log, and the '.writer' turn file
        # beside it, only shared (on Unix a shared flock), the weakest hold there is: a writer that
        # takes its turn exclusively (on either file) must still wait for it, while one that only
        # shares (FileShare.Read, as AppendOnlyFile once did) or takes no turn would write into it.
        $turn = [IO.File]::Open("$audit.writer", 'OpenOrCreate', 'ReadWrite', 'ReadWrite')
        $held = [IO.File]::Open($audit, 'Open', 'ReadWrite', 'ReadWrite')
        try {
            $held.Seek(0, 'End') | Out-Null
            $half = [Text.Encoding]::UTF8.GetBytes($other.Substring(0, 40))
            $held.Write($half, 0, $half.Length); $held.Flush()
            $job = Start-ThreadJob -ScriptBlock { param($exe, $prefix, $encoded) & $exe @prefix -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 | ForEach-Object { "$_" } } -ArgumentList $pwsh.Exe, $pwsh.Prefix, $encoded
            # The child takes the farm's lease (its holder note appears) just before it writes its
            # intent: from then on it is at the log, so that is the event to wait for, not a time.
            $holder = Join-Path $folder 'leases/dev.lease.holder'
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not (Test-Path $holder) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            $ready | Should -Exist
            $holder | Should -Exist -Because 'the child reached its change (it holds the farm''s lease) within 60 s'
            # It retries every 20 ms for up to 10 s: watched for a second, failing as soon as it writes or changes.
            $watch = [DateTime]::UtcNow.AddSeconds(1)
            while ([DateTime]::UtcNow -lt $watch -and $held.Length -eq (Get-Item $audit).Length) { Start-Sleep -Milliseconds 20 }

            (Get-TtmFarmRole -Farm Dev -Alias Reports).Role | Should -Be 'Reports-1-6' -Because 'the change waits for its intent to be written'
            $held.Length | Should -Be ((Get-Item $audit).Length) -Because 'nobody else wrote while the log was held'

            $rest = [Text.Encoding]::UTF8.GetBytes($other.Substring(40) + "`n")
            $held.Write($rest, 0, $rest.Length); $held.Flush()
        }
        finally { $held.Dispose(); $turn.Dispose() }
        $output = $job | Wait-Job -Timeout 120 | Receive-Job
        $job | Remove-Job -Force

        $output | Should -Contain 'finished'
        (Get-TtmFarmRole -Farm Dev -Alias Reports).Role | Should -Be 'Reports'
        $lines = @(Get-Content $audit | Where-Object { $_ })
        $lines | ForEach-Object { $_ | ConvertFrom-Json -ErrorAction Stop } | Out-Null
        $lines[2] | Should -Be $other -Because 'the held line was finished whole before the waiting writer went on'
        $lines | Should -HaveCount 5
    }
}
