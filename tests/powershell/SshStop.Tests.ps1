# Ctrl+C (StopProcessing) in the SSH cmdlets' long waits, on a real sshd on loopback: Stop
# returns within seconds, and nothing the cmdlet started goes on, on the server or here.
# The "server" is this machine, so what runs on it is seen with pgrep directly.

Describe 'Ctrl+C in the SSH cmdlets on a real sshd' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
        Import-Module (Get-RebundleModulePath) -Force
        . (Join-Path $PSScriptRoot 'helpers/SshTestServer.ps1')
        $script:sshd = Start-TestSshd
        $script:sandbox = New-TestSandbox
        $script:childSsh = "-Address 127.0.0.1 -Port $($sshd.Port) -User $($sshd.User) -KeyFile '$($sshd.KeyFile)' -KnownHostsFile '$($sshd.KnownHostsFile)'"

        # Starts $Pipeline in a runspace of its own, connected to the test Sandbox, without waiting.
        function script:Start-Pipeline([string] $Pipeline) {
            $ps = [powershell]::Create()
            $null = $ps.AddScript("Import-Module '$(Get-RebundleModulePath)'; Connect-TtmFleet -Sandbox -Path '$($sandbox.Path)' | Out-Null; $Pipeline")
            [pscustomobject]@{ PowerShell = $ps; Async = $ps.BeginInvoke() }
        }

        # Presses Ctrl+C: stops the pipeline and returns how long Stop took.
        function script:Stop-Pipeline($Running) {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $Running.PowerShell.Stop()
            $watch.Elapsed
        }

        function script:Wait-Until([scriptblock] $Condition, [string] $What, [int] $Seconds = 30) {
            $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
            while (-not (& $Condition)) {
                if ([DateTime]::UtcNow -gt $deadline) { throw "Gave up after ${Seconds}s waiting for $What" }
                Start-Sleep -Milliseconds 100
            }
        }

        # How many logins sshd accepted so far.
        function script:Get-LoginCount {
            @(Select-String -Path (Join-Path $sshd.Root 'sshd.log') -Pattern 'Accepted publickey' -SimpleMatch).Count
        }
    }

    AfterAll {
        Disconnect-TtmFleet -ErrorAction SilentlyContinue | Out-Null
        Stop-TestSshd $sshd
        Remove-Item $sandbox.Path -Recurse -Force -ErrorAction SilentlyContinue
    }

    BeforeEach {
        Reset-TestSshdState $sshd
    }

    Describe 'Ctrl+C in Test-TtmServer' {
        It 'returns within seconds and kills the running check command on the server, background child included' {
            # Found by unique sleep lengths; each process touches its marker if it lives out its sleep.
            $unique = Get-Random -Minimum 100000 -Maximum 999999
            $child = Join-Path $sshd.State 'check-child-finished'
            $parent = Join-Path $sshd.State 'check-parent-finished'
            $command = "(sleep 8.${unique}1; touch $child) & sleep 8.${unique}2; touch $parent"
            $pattern = "^sleep 8[.]$unique"
            $running = Start-Pipeline "Get-TtmServer -Farm Rebundle-Staging -Role Sidekiq | Test-TtmServer -Check Command -Command '$command' $childSsh"
            try {
                Wait-Until { @(& pgrep -f $pattern).Count -eq 2 } 'the check command and its child to run'

                $took = Stop-Pipeline $running

                $took.TotalSeconds | Should -BeLessThan 5
                $running.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
                @(& pgrep -f $pattern) | Should -BeNullOrEmpty -Because 'Stop returns only once the command is killed on the server'
                $running.PowerShell.Streams.Information | Should -BeNullOrEmpty -Because 'no check result was made up for the stopped check'
                # Had they lived, they would have touched their markers by the time a control process,
                # started only now, has slept as long: waiting for its marker, not for a fixed time,
                # keeps the proof when the machine is slow (a late start delays the control too).
                $control = Join-Path $sshd.State 'check-control-finished'
                $controlProcess = [Diagnostics.Process]::Start('sh', [string[]]@('-c', "sleep 8.5; touch '$control'"))
                $controlProcess.WaitForExit(60000) | Should -BeTrue -Because 'the control process finishes its sleep'
                $control | Should -Exist
                $parent | Should -Not -Exist
                $child | Should -Not -Exist
            }
            finally { $running.PowerShell.Dispose() }
        }
    }

    Describe 'Ctrl+C in the reboot wait of Update-TtmServerOs' {
        It 'returns within seconds while the server is down, and tries no more connections' {
            '' | Set-Content (Join-Path $sshd.State 'reboot-never')
            $running = Start-Pipeline "Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base | Update-TtmServerOs -Reboot -RebootTimeout 0:10:00 $childSsh"
            try {
                Wait-Until { (Test-Path (Join-Path $sshd.State 'reboot.log')) -and -not (Test-TestSshdAnswers $sshd.Port) } 'the reboot to take the server down'
                # At least one attempt to reconnect has been refused: the wait reports progress before each
                # round, so a second report of the wait means the first round's attempt is over.
                Wait-Until { @($running.PowerShell.Streams.Progress | Where-Object Activity -Like 'Waiting for * to come back after reboot').Count -ge 2 } 'a refused reconnect attempt' -Seconds 30

                $took = Stop-Pipeline $running

                $took.TotalSeconds | Should -BeLessThan 5
                $running.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
                $running.PowerShell.Streams.Error | Should -BeNullOrEmpty -Because 'a stop is not a failure of the server'
                # The server comes back: a wait still running would log in within its next 5 s round.
                Reset-TestSshdState $sshd
                Wait-Until { Test-TestSshdAnswers $sshd.Port } 'the server to answer again'
                $logins = Get-LoginCount
                # The event ruled out is a login by the stopped wait, whose rounds are 5 s apart: watched
                # for two rounds from the moment the server answers, failing as soon as one shows up.
                $deadline = [DateTime]::UtcNow.AddSeconds(11)
                while ([DateTime]::UtcNow -lt $deadline -and (Get-LoginCount) -eq $logins) { Start-Sleep -Milliseconds 200 }
                Get-LoginCount | Should -Be $logins -Because 'a stopped wait tries no more connections'
            }
            finally { $running.PowerShell.Dispose() }
        }
    }
}
