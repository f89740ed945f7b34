# The SSH cmdlets against a real OpenSSH server on loopback, with Sandbox servers piped in
# (-Address 127.0.0.1 -Port <port>: every "server" is the same sshd over its own connection).

Describe 'SSH cmdlets on a real sshd' {
    BeforeAll {
        $module = if ($env:REBUNDLE_MODULE) { $env:REBUNDLE_MODULE } else { Join-Path $PSScriptRoot '../../out/Rebundle/Rebundle.psd1' }
        Import-Module $module -Force
        . (Join-Path $PSScriptRoot 'helpers/SshTestServer.ps1')
        $script:sshd = Start-TestSshd
        $script:sandbox = Join-Path ([IO.Path]::GetTempPath()) ('rebundle-pester-ssh-' + [guid]::NewGuid().ToString('n').Substring(0, 8))
        Connect-TtmFleet -Sandbox -Path $sandbox | Out-Null
        $script:ssh = @{
            Address        = '127.0.0.1'
            Port           = $sshd.Port
            User           = $sshd.User
            KeyFile        = $sshd.KeyFile
            KnownHostsFile = $sshd.KnownHostsFile
        }
    }

    AfterAll {
        Disconnect-TtmFleet -ErrorAction SilentlyContinue | Out-Null
        Stop-TestSshd $sshd
        Remove-Item $sandbox -Recurse -Force -ErrorAction SilentlyContinue
    }

    BeforeEach {
        Reset-TestSshdState $sshd
    }

    Describe 'Asking before remote work' {
        BeforeAll {
            Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
            # The same SSH parameters, as text for a child PowerShell.
            $script:childSsh = "-Address 127.0.0.1 -Port $($sshd.Port) -User $($sshd.User) -KeyFile '$($sshd.KeyFile)' -KnownHostsFile '$($sshd.KnownHostsFile)'"
            # Runs $Command on Production's Sidekiq server in a non-interactive child and prints the error id and message it stopped with.
            function script:Invoke-OnProduction([string] $Command) {
                Invoke-ChildRebundle @"
Connect-TtmFleet -Sandbox -Path '$sandbox' | Out-Null
try { Get-TtmServer -Farm Production -Role Sidekiq | $Command; 'FINISHED' } catch { `$_.FullyQualifiedErrorId; `$_.Exception.Message }
"@
            }
        }

        It 'Invoke-TtmSsh -WhatIf lists each server with the command, and runs nothing, not even a key lookup' {
            $marker = Join-Path $sshd.State 'whatif-ran'
            $servers = Get-TtmServer -Farm Rebundle-Staging -Role RailsAppServer, Sidekiq
            $output = Invoke-ChildRebundle @"
Connect-TtmFleet -Sandbox -Path '$sandbox' | Out-Null
Get-TtmServer -Farm Rebundle-Staging -Role RailsAppServer, Sidekiq | Invoke-TtmSsh -Command 'touch $marker' -WhatIf $($childSsh.Replace($sshd.KeyFile, (Join-Path $sshd.Root 'not-there.pem')))
"@
            $marker | Should -Not -Exist
            $whatIf = @($output | Where-Object { $_ -like 'What if:*' })
            $whatIf.Count | Should -Be $servers.Count
            foreach ($server in $servers) {
                $whatIf -like "*Run 'touch $marker'*$($server.Name)*Rebundle-Staging*" | Should -Not -BeNullOrEmpty
            }
            $output -like '*Ttm*' | Should -BeNullOrEmpty -Because 'no key was looked for, so no TtmSshKeyNotFound'
        }

        It 'Invoke-TtmSsh on a Production server is refused in a non-interactive run with TtmApprovalRequired, and runs with -Force' {
            $marker = Join-Path $sshd.State 'production-ran'

            $refused = Invoke-OnProduction "Invoke-TtmSsh -Command 'touch $marker' $childSsh"
            $refused[0] | Should -BeLike 'TtmApprovalRequired,*InvokeTtmSshCommand'
            $refused[1] | Should -BeLike '*Production*-Force*'
            $refused | Should -Not -Contain 'FINISHED'
            $marker | Should -Not -Exist

            Invoke-OnProduction "Invoke-TtmSsh -Command 'touch $marker' $childSsh -Force | Out-Null" | Should -Contain 'FINISHED'
            $marker | Should -Exist
        }

        It 'Invoke-TtmSsh on Dev needs no approval, but -Confirm in a non-interactive run is refused with TtmApprovalRequired' {
            $marker = Join-Path $sshd.State 'dev-ran'
            $output = Invoke-ChildRebundle @"
Connect-TtmFleet -Sandbox -Path '$sandbox' | Out-Null
try { Get-TtmServer -Farm Dev -Role Sidekiq | Invoke-TtmSsh -Command 'touch $marker' $childSsh -Confirm } catch { `$_.FullyQualifiedErrorId }
"@
            $output | Should -BeLike 'TtmApprovalRequired,*'
            $marker | Should -Not -Exist

            (Get-TtmServer -Farm Dev -Role Sidekiq | Invoke-TtmSsh @ssh -Command "touch $marker").ExitCode | Should -Be 0
            $marker | Should -Exist
        }

        It 'Update-TtmServerOs -Reboot on a Production server is refused in a non-interactive run with TtmApprovalRequired, and runs with -Confirm:$false' {
            '1' | Set-Content (Join-Path $sshd.State 'reboot-delay')

            $refused = Invoke-OnProduction "Update-TtmServerOs -Reboot $childSsh"
            $refused[0] | Should -BeLike 'TtmApprovalRequired,*UpdateTtmServerOsCommand'
            $refused[1] | Should -BeLike '*Production*-Force*'
            Join-Path $sshd.State 'apt.log' | Should -Not -Exist
            Join-Path $sshd.State 'reboot.log' | Should -Not -Exist

            Invoke-OnProduction "Update-TtmServerOs -Reboot -RebootTimeout '00:01:00' $childSsh -Confirm:`$false | Out-Null" | Should -Contain 'FINISHED'
            Join-Path $sshd.State 'reboot.log' | Should -Exist
        }

        It 'Test-TtmServer asks only for command checks: refused on Production in a non-interactive run, read-only checks need nothing' {
            $marker = Join-Path $sshd.State 'check-ran'

            $refused = Invoke-OnProduction "Test-TtmServer -Check Chef, Command -ChefCachePath '$($sshd.ChefCache)' -Command 'touch $marker' $childSsh"
            $refused[0] | Should -BeLike 'TtmApprovalRequired,*TestTtmServerCommand'
            $marker | Should -Not -Exist

            $passed = Invoke-OnProduction "Test-TtmServer -Check Chef -ChefCachePath '$($sshd.ChefCache)' $childSsh | ForEach-Object Name"
            $passed | Should -Be @('Sidekiq.1', 'FINISHED')
        }

        It 'Test-TtmServer -WhatIf runs the read-only checks, not the commands, and passes no server on' {
            $marker = Join-Path $sshd.State 'check-whatif-ran'
            $passed = Get-TtmServer -Farm Rebundle-Staging -Role Sidekiq |
                Test-TtmServer @ssh -ChefCachePath $sshd.ChefCache -Command "touch $marker" -WhatIf -InformationVariable checks -ErrorVariable failures

            $passed | Should -BeNullOrEmpty
            $failures | Should -BeNullOrEmpty
            $marker | Should -Not -Exist
            $checks.MessageData.Check | Should -Be @('Chef', "Command touch $marker")
            $checks.MessageData.Passed | Should -Be @($true, $false)
            $checks.MessageData[1].Detail | Should -BeLike 'not run: not approved*'
        }

        It 'Test-TtmServer -Check Command -WhatIf does not even look for a key' {
            $settings = $ssh.Clone(); $settings.KeyFile = Join-Path $sshd.Root 'not-there.pem'
            $results = Get-TtmServer -Farm Rebundle-Staging -Role Sidekiq |
                Test-TtmServer @settings -Check Command -Command 'true' -WhatIf -AsCheckResult -ErrorVariable failures

            $failures | Should -BeNullOrEmpty
            $results.Check | Should -Be 'Command true'
            $results.Passed | Should -BeFalse
        }

        It 'a runspace without a UI is refused with TtmApprovalRequired too, not a host error' {
            $marker = Join-Path $sshd.State 'hosted-ran'
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript("Import-Module '$(Get-RebundleModulePath)'; Connect-TtmFleet -Sandbox -Path '$sandbox' | Out-Null; Get-TtmServer -Farm Production -Role Sidekiq | Invoke-TtmSsh -Command 'touch $marker' $childSsh")
                $null = $ps.Invoke()
                $ps.Streams.Error[0].FullyQualifiedErrorId | Should -BeLike 'TtmApprovalRequired,*'
            }
            finally { $ps.Dispose() }
            $marker | Should -Not -Exist
        }
    }

    Describe 'Invoke-TtmSsh' {
        It 'runs the command on every piped server and outputs one result each' {
            $servers = Get-TtmServer -Farm Rebundle-Staging
            $results = $servers | Invoke-TtmSsh @ssh -Command 'echo hello; exit 0' -ThrottleLimit 2

            $results.Count | Should -Be $servers.Count
            ($results.Server | Sort-Object) | Should -Be ($servers.Name | Sort-Object)
            $results | ForEach-Object { $_.ExitCode | Should -Be 0; $_.StdOut | Should -Be "hello`n" }
            $results[0].PSObject.TypeNames[0] | Should -Be 'Rebundle.Remote.SshCommandResult'
        }

        It 'makes a non-zero exit a non-terminating error per server and still outputs the result' {
            $servers = Get-TtmServer -Farm Rebundle-Staging -Role RailsAppServer, Sidekiq
            $results = $servers | Invoke-TtmSsh @ssh -Command 'echo broken >&2; exit 2' -ErrorAction SilentlyContinue -ErrorVariable failures

            $results.Count | Should -Be 2
            $results.ExitCode | Should -Be @(2, 2)
            $failures.Count | Should -Be 2
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'TtmSshCommandFailed,*'
            $failures[0].Exception.Message | Should -BeLike "*exited with 2*broken*"
            $failures[0].TargetObject.GetType().Name | Should -Be 'Server'
        }

        It 'stops a command at -Timeout with TtmSshTimeout' {
            Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base |
                Invoke-TtmSsh @ssh -Command 'sleep 30' -Timeout '00:00:01' -ErrorAction SilentlyContinue -ErrorVariable failures | Should -BeNullOrEmpty

            $failures[0].FullyQualifiedErrorId | Should -BeLike 'TtmSshTimeout,*'
            $failures[0].Exception.Message | Should -BeLike '*was stopped on the server*'
        }

        It 'refuses an unknown host key showing its fingerprint, and trusts it only with -TrustNewHostKey' {
            $knownHosts = Join-Path $sshd.Root 'pester_known_hosts'
            $server = Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base
            $settings = $ssh.Clone(); $settings.KnownHostsFile = $knownHosts

            $server | Invoke-TtmSsh @settings -Command 'true' -ErrorAction SilentlyContinue -ErrorVariable refused | Should -BeNullOrEmpty
            $refused[0].FullyQualifiedErrorId | Should -BeLike 'TtmSshHostKeyRejected,*'
            $refused[0].CategoryInfo.Category | Should -Be 'SecurityError'
            $refused[0].Exception.Message | Should -BeLike "*$($sshd.HostKeyFingerprint)*-TrustNewHostKey*"

            ($server | Invoke-TtmSsh @settings -Command 'true' -TrustNewHostKey).ExitCode | Should -Be 0
            Get-Content $knownHosts | Should -BeLike "``[127.0.0.1``]:$($sshd.Port) ssh-ed25519 *"
            ($server | Invoke-TtmSsh @settings -Command 'true').ExitCode | Should -Be 0
        }

        It 'takes a pinned -HostKeyFingerprint instead of a known-hosts file' {
            $settings = $ssh.Clone(); $settings.KnownHostsFile = Join-Path $sshd.Root 'absent'
            $result = Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base | Invoke-TtmSsh @settings -Command 'echo pinned' -HostKeyFingerprint $sshd.HostKeyFingerprint

            $result.StdOut | Should -Be "pinned`n"
        }

        It 'unlocks a passphrase-protected key with -KeyPassphrase' {
            $settings = $ssh.Clone(); $settings.KeyFile = $sshd.EncryptedKeyFile
            $passphrase = ConvertTo-SecureString $sshd.Passphrase -AsPlainText -Force
            $result = Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base | Invoke-TtmSsh @settings -KeyPassphrase $passphrase -Command 'echo unlocked'

            $result.StdOut | Should -Be "unlocked`n"
        }

        It 'says to pass -KeyPassphrase when the key needs one and the session cannot ask' {
            Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
            $output = Invoke-ChildRebundle @"
Connect-TtmFleet -Sandbox -Path '$sandbox' | Out-Null
Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base |
    Invoke-TtmSsh -Address 127.0.0.1 -Port $($sshd.Port) -User $($sshd.User) -KeyFile '$($sshd.EncryptedKeyFile)' -KnownHostsFile '$($sshd.KnownHostsFile)' -Command 'true' -ErrorVariable e -ErrorAction SilentlyContinue
`$e[0].FullyQualifiedErrorId
`$e[0].Exception.Message
"@
            $output | Should -Contain 'TtmSshKeyNotFound,Rebundle.PowerShell.Commands.InvokeTtmSshCommand'
            ($output -join ' ') | Should -BeLike '*protected by a passphrase*-KeyPassphrase*'
            ($output -join ' ') | Should -Not -BeLike "*$($sshd.Passphrase)*"
        }

        It 'names the key file looked for when it is missing' {
            $settings = $ssh.Clone(); $settings.KeyFile = Join-Path $sshd.Root 'FARM-missing.pem'
            Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base |
                Invoke-TtmSsh @settings -Command 'true' -ErrorAction SilentlyContinue -ErrorVariable failures | Should -BeNullOrEmpty

            $failures[0].FullyQualifiedErrorId | Should -BeLike 'TtmSshKeyNotFound,*'
            $failures[0].Exception.Message | Should -BeLike "*$($settings.KeyFile)*"
        }
    }

    Describe 'Update-TtmServerOs' {
        It 'changes nothing with -WhatIf, and does not even look for the key' {
            $settings = $ssh.Clone(); $settings.KeyFile = Join-Path $sshd.Root 'not-there.pem'
            Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base |
                Update-TtmServerOs @settings -Reboot -WhatIf -ErrorVariable failures | Should -BeNullOrEmpty

            $failures | Should -BeNullOrEmpty
            Join-Path $sshd.State 'apt.log' | Should -Not -Exist
        }

        It 'upgrades, installs, reboots and waits through the refused connections until the server is back with a new boot time' {
            "The following packages will be upgraded:`n  openssl`nSetting up openssl (3.0.15-1~deb12u1) ...`n" |
                Set-Content (Join-Path $sshd.State 'apt-upgrade.out')
            # Down longer than the 5 s between attempts: at least one reconnect is refused.
            '6' | Set-Content (Join-Path $sshd.State 'reboot-delay')
            $watch = [Diagnostics.Stopwatch]::StartNew()

            $result = Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base |
                Update-TtmServerOs @ssh -Package nginx -Reboot -RebootTimeout '00:01:00' -Confirm:$false

            $result.Server | Should -Be 'TTM-Base.1'
            $result.Upgraded | Should -Be @('openssl')
            $result.Installed | Should -Be @('nginx')
            $result.Rebooted | Should -BeTrue
            $result.BootTimeAfter | Should -Not -Be $result.BootTimeBefore
            $result.BootTimeAfter | Should -Be (Get-Content (Join-Path $sshd.State 'boot-time'))
            $watch.Elapsed.TotalSeconds | Should -BeGreaterThan 6 -Because 'it waited while the server refused connections'
            (Get-Content (Join-Path $sshd.State 'apt.log'))[0] | Should -BeLike 'DEBIAN_FRONTEND=noninteractive *update'
        }

        It 'reports a held dpkg lock as TtmSshCommandFailed for that server' {
            '' | Set-Content (Join-Path $sshd.State 'apt-locked')
            Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base |
                Update-TtmServerOs @ssh -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failures | Should -BeNullOrEmpty

            $failures[0].FullyQualifiedErrorId | Should -BeLike 'TtmSshCommandFailed,*'
            $failures[0].Exception.Message | Should -BeLike '*dpkg lock*'
        }
    }

    Describe 'Invoke-TtmRebundle over SSH' {
        It 'patches and reboots the base server, checks staging and Dev, and stops at the gate' {
            $journal = Join-Path $sandbox ('rebundle-' + [guid]::NewGuid().ToString('n') + '.jsonl')
            $result = Invoke-TtmRebundle @ssh -Check Chef -ChefCachePath $sshd.ChefCache -BatchSize 6 -JournalPath $journal

            $result.Status | Should -Be 'WaitingForApproval'
            $result.StepsDone | Should -Contain 'os-update'
            $result.StepsDone | Should -Contain 'verify-staging'
            $result.StepsDone | Should -Contain 'verify-test'
            Get-Content (Join-Path $sshd.State 'boot-time') | Should -Not -Be '2026-01-01 00:00:00' -Because 'the base server was rebooted'
        }

        It 'stops before any snapshot when a staging server''s Chef run failed' {
            $journal = Join-Path $sandbox ('rebundle-' + [guid]::NewGuid().ToString('n') + '.jsonl')
            $rolesBefore = (Get-TtmRole -IncludeVersions).Name
            '{ "exception": "Chef::Exceptions::Exec: npm failed" }' | Set-Content (Join-Path $sshd.ChefCache 'failed-run-data.json')
            $record = $null
            try { Invoke-TtmRebundle @ssh -SkipOsUpdate -Check Chef -ChefCachePath $sshd.ChefCache -BatchSize 6 -JournalPath $journal -ErrorAction Stop } catch { $record = $_ }

            $record.FullyQualifiedErrorId | Should -BeLike 'TtmCheckFailed,*'
            $record.Exception.Message | Should -Match '-Resume'
            (Get-TtmRole -IncludeVersions).Name | Should -Be $rolesBefore
        }
    }

    Describe 'Test-TtmServer' {
        It 'passes healthy servers down the pipeline, into New-TtmRoleSnapshot' {
            'nginx' | Set-Content (Join-Path $sshd.State 'active-services')
            # Earlier tests in this file may have made versions already: the next one is known exactly.
            $next = (Get-TtmNextRoleVersion -Role RailsAppServer).NextRoleName
            $role = Get-TtmServer -Farm Rebundle-Staging -Role RailsAppServer |
                Test-TtmServer @ssh -ChefCachePath $sshd.ChefCache -Service nginx -InformationVariable checks |
                New-TtmRoleSnapshot -NoWait -Confirm:$false

            $role.Name | Should -Be $next -Because 'the next minor version of RailsAppServer'
            $checks.MessageData.Check | Should -Be @('Chef', 'Service nginx')
            $checks.MessageData.Passed | Should -Be @($true, $true)
            $checks[0].Tags | Should -Contain 'TtmCheck'
        }

        It 'holds back a server whose Chef run failed, with TtmCheckFailed naming the check' {
            '{ "exception": "Chef::Exceptions::Exec: npm failed" }' | Set-Content (Join-Path $sshd.ChefCache 'failed-run-data.json')
            $passed = Get-TtmServer -Farm Rebundle-Staging -Role Sidekiq |
                Test-TtmServer @ssh -ChefCachePath $sshd.ChefCache -ErrorAction SilentlyContinue -ErrorVariable failures

            $passed | Should -BeNullOrEmpty
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'TtmCheckFailed,*'
            $failures[0].Exception.Message | Should -BeLike '*Chef: last run failed*npm failed*'
        }

        It 'outputs one result per check with -AsCheckResult' {
            'ruby 3.2.3' | Set-Content (Join-Path $sshd.State 'packages')
            $results = Get-TtmServer -Farm Rebundle-Staging -Role NodeAppServer |
                Test-TtmServer @ssh -Check Package, Command -PackageName ruby, nodejs -Command 'test -d /' -AsCheckResult

            $results.Check | Should -Be @('Package ruby', 'Package nodejs', 'Command test -d /')
            $results.Passed | Should -Be @($true, $false, $true)
            $results[1].Detail | Should -Be 'not installed'
        }

        It 'refuses a -Check kind without anything to check' {
            { Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base | Test-TtmServer @ssh -Check Service -ErrorAction Stop } |
                Should -Throw -ErrorId 'TtmInvalidArgument,*'
        }
    }
}
