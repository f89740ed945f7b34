# The test run as a queue of independent jobs: each xunit project and each Pester file is one job,
# run in a process of its own (its own module import, endpoints, ports and temp folders), a few at a
# time, longest first, so the run takes about as long as its longest job instead of the sum of all.
# Most of the suites wait on sockets, child processes and simulated boots rather than on the CPU,
# which is why running them side by side pays off even on a 2-core machine.

Set-StrictMode -Version Latest

function New-TestJob {
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [ValidateSet('xunit', 'pester')] [string] $Kind,
        [Parameter(Mandatory)] [string] $Exe,
        [Parameter(Mandatory)] [string[]] $Arguments,
        [Parameter(Mandatory)] [string] $ResultPath,
        [Parameter(Mandatory)] [string] $LogPath,
        [hashtable] $Environment = @{},
        [int] $TimeoutSeconds = 1200
    )
    [pscustomobject]@{
        Name = $Name; Kind = $Kind; Exe = $Exe; Arguments = $Arguments; ResultPath = $ResultPath
        LogPath = $LogPath; Environment = $Environment; TimeoutSeconds = $TimeoutSeconds
    }
}

# Runs the jobs, at most $Parallel at once, the slowest of the last run first (jobs never timed
# go first: they may be the slow ones). Emits one result per job as it finishes.
function Invoke-TestJobs {
    param(
        [Parameter(Mandatory)] [object[]] $Jobs,
        [int] $Parallel = 2,
        [hashtable] $LastSeconds = @{}
    )
    $ordered = $Jobs | Sort-Object { if ($LastSeconds.ContainsKey($_.Name)) { [double] $LastSeconds[$_.Name] } else { [double]::MaxValue } } -Descending
    $ordered | ForEach-Object -ThrottleLimit $Parallel -Parallel {
        $job = $_
        Remove-Item $job.ResultPath, $job.LogPath -ErrorAction SilentlyContinue
        $start = [Diagnostics.ProcessStartInfo]::new($job.Exe)
        foreach ($argument in $job.Arguments) { $start.ArgumentList.Add($argument) }
        foreach ($name in $job.Environment.Keys) { $start.Environment[$name] = $job.Environment[$name] }
        $start.UseShellExecute = $false
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $log = [IO.File]::Create($job.LogPath)
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $process = [Diagnostics.Process]::Start($start)
        # Copied by .NET, not by a script block: no runspace is needed on the thread that copies.
        $copies = $process.StandardOutput.BaseStream.CopyToAsync($log), $process.StandardError.BaseStream.CopyToAsync($log)
        $finished = $process.WaitForExit($job.TimeoutSeconds * 1000)
        if (-not $finished) { $process.Kill($true); $process.WaitForExit() }
        # A grandchild still holding the output (a server a test forgot to stop) must not hold the run.
        $null = [Threading.Tasks.Task]::WaitAll($copies, 10000)
        $seconds = $watch.Elapsed.TotalSeconds
        $log.Dispose()
        [pscustomobject]@{ Job = $job; Seconds = $seconds; ExitCode = $process.ExitCode; TimedOut = -not $finished }
    }
}

function Get-TrxTests {
    param([string] $Path, [string] $Suite)
    $run = ([xml] (Get-Content $Path -Raw)).TestRun
    foreach ($result in $run.SelectNodes("//*[local-name()='UnitTestResult']")) {
        $message = $result.SelectSingleNode("*[local-name()='Output']/*[local-name()='ErrorInfo']/*[local-name()='Message']")
        $outcome = switch ($result.outcome) { 'Passed' { 'Passed' } 'NotExecuted' { 'Skipped' } default { 'Failed' } }
        [pscustomobject]@{
            Suite   = $Suite
            Name    = $result.testName
            Result  = $outcome
            Seconds = if ($result.duration) { [TimeSpan]::Parse($result.duration).TotalSeconds } else { 0 }
            Message = if ($message) { $message.InnerText.Trim() } else { '' }
        }
    }
}

# What one finished job found: its tests (name, result, seconds, message) and failures outside any
# test (a BeforeAll, a crash, a timeout), each as a test named after where it happened.
function Read-TestJobResult {
    param([Parameter(Mandatory)] $Finished)
    $job = $Finished.Job
    $tests = [Collections.Generic.List[object]]::new()
    if (Test-Path $job.ResultPath) {
        if ($job.Kind -eq 'xunit') {
            foreach ($test in Get-TrxTests $job.ResultPath $job.Name) { $tests.Add($test) }
        }
        else {
            $data = Get-Content $job.ResultPath -Raw | ConvertFrom-Json
            foreach ($test in $data.Tests) {
                $result = switch ($test.Result) { 'Passed' { 'Passed' } 'Failed' { 'Failed' } { $_ -in 'Skipped', 'Inconclusive' } { 'Skipped' } default { 'NotRun' } }
                $tests.Add([pscustomobject]@{ Suite = $job.Name; Name = $test.Name; Result = $result; Seconds = [double] $test.Seconds; Message = "$($test.Message)" })
            }
            foreach ($block in $data.Blocks) {
                $tests.Add([pscustomobject]@{ Suite = $job.Name; Name = "$($block.Name) (outside any test)"; Result = 'Failed'; Seconds = 0; Message = "$($block.Message)" })
            }
        }
    }
    $problem = if ($Finished.TimedOut) { "did not finish within $($job.TimeoutSeconds) s and was stopped" }
    elseif (-not (Test-Path $job.ResultPath)) { "wrote no results (exit code $($Finished.ExitCode))" }
    elseif ($job.Kind -eq 'xunit' -and $Finished.ExitCode -ne 0 -and -not ($tests | Where-Object Result -eq 'Failed')) { "exited with code $($Finished.ExitCode) with no failed test" }
    if ($problem) { $tests.Add([pscustomobject]@{ Suite = $job.Name; Name = $job.Name; Result = 'Failed'; Seconds = $Finished.Seconds; Message = $problem }) }
    [pscustomobject]@{ Job = $job; Seconds = $Finished.Seconds; Tests = $tests.ToArray() }
}

function Write-TestJobLine {
    param([Parameter(Mandatory)] $Result)
    $passed = @($Result.Tests | Where-Object Result -eq 'Passed').Count
    $failed = @($Result.Tests | Where-Object Result -eq 'Failed')
    $line = '{0,7:0.0} s  {1,-45} {2,4} passed, {3} failed' -f $Result.Seconds, $Result.Job.Name, $passed, $failed.Count
    if ($failed.Count -eq 0) { Write-Host "  ok   $line" -ForegroundColor Green; return }
    Write-Host "  FAIL $line" -ForegroundColor Red
    foreach ($test in $failed) { Write-Host "       [-] $($test.Name): $($test.Message)" -ForegroundColor Red }
    # The whole log of a failing job, since CI shows nothing else: what ran, in order, and every error.
    Write-Host "------ $($Result.Job.LogPath)" -ForegroundColor DarkGray
    if (Test-Path $Result.Job.LogPath) { Get-Content $Result.Job.LogPath | ForEach-Object { Write-Host "       $_" } }
    Write-Host '------' -ForegroundColor DarkGray
}

function Write-TestTimes {
    param([object[]] $Results, [int] $Top = 10)
    Write-Host "Jobs by time:" -ForegroundColor Cyan
    foreach ($result in $Results | Sort-Object Seconds -Descending) {
        Write-Host ('  {0,7:0.0} s  {1}' -f $result.Seconds, $result.Job.Name)
    }
    Write-Host "The $Top slowest tests:" -ForegroundColor Cyan
    foreach ($test in $Results.Tests | Where-Object Result -ne 'NotRun' | Sort-Object Seconds -Descending | Select-Object -First $Top) {
        Write-Host ('  {0,7:0.0} s  {1}: {2}' -f $test.Seconds, $test.Suite, $test.Name)
    }
}

Export-ModuleMember -Function New-TestJob, Invoke-TestJobs, Read-TestJobResult, Write-TestJobLine, Write-TestTimes
