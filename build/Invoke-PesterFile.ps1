# Runs one Pester file in this process (build/TestQueue.psm1 starts one process per file, so files
# share nothing: not a module import, not a port, not a temp folder) and writes what the queue needs
# as JSON: totals, every test's time, and the reason of every skip and the message of every failure.
param(
    [Parameter(Mandatory)] [string] $Pester,
    [Parameter(Mandatory)] [string] $Path,
    [Parameter(Mandatory)] [string] $ResultPath
)

$ErrorActionPreference = 'Stop'
Import-Module $Pester
$config = New-PesterConfiguration
$config.Run.Path = $Path
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Normal'
# The log is read in CI and in an editor, not in a terminal.
$config.Output.RenderMode = 'Plaintext'
$result = Invoke-Pester -Configuration $config

function Get-Message($Test) {
    (@($Test.ErrorRecord | ForEach-Object { $_.Exception.Message }) -join ' ') -replace '\s+', ' '
}

$tests = foreach ($test in $result.Tests) {
    [pscustomobject]@{
        Name    = $test.ExpandedPath
        Result  = "$($test.Result)"
        Seconds = [Math]::Round($test.Duration.TotalSeconds, 3)
        Message = if ($test.Result -in 'Failed', 'Skipped', 'Inconclusive') { Get-Message $test } else { $null }
    }
}
# A failure outside any It (a BeforeAll that throws, a file that does not parse) fails a block or
# the file itself, not a test: named here so the run says where to look.
$blocks = foreach ($block in @($result.FailedBlocks) + @($result.FailedContainers) | Where-Object { $_ }) {
    $name = if ($block.PSObject.Properties['ExpandedPath']) { $block.ExpandedPath } else { "$($block.Item)" }
    [pscustomobject]@{ Name = $name; Message = Get-Message $block }
}
[pscustomobject]@{
    Passed  = $result.PassedCount
    Failed  = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Tests   = @($tests)
    Blocks  = @($blocks)
} | ConvertTo-Json -Depth 5 | Set-Content -Path $ResultPath -Encoding utf8
