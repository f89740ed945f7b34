<#
.SYNOPSIS
    Starts and stops a real OpenSSH server on loopback for the SSH cmdlets' Pester tests.
.DESCRIPTION
    The PowerShell twin of tests/Rebundle.Ssh.Tests/Fixture/SshdFixture.cs: /usr/sbin/sshd in
    the foreground on a free 127.0.0.1 port, running as the current user, with a generated
    host key and user key, its own authorized_keys, and a PATH for sessions that puts the
    fake apt-get, dpkg-query, systemctl, uptime and reboot from tests/Rebundle.Ssh.Tests/Fakes
    first. The fakes keep their state in the returned object's State folder. The fake reboot
    really takes sshd away (connections drop, the port refuses) and starts it again later;
    Reset-TestSshdState makes sure it answers for the next test.
#>

function Start-TestSshd {
    if (-not (Test-Path /usr/sbin/sshd)) { throw 'These tests need OpenSSH''s server: apt-get install -y openssh-server (.ci/run does it).' }
    $root = Join-Path ([IO.Path]::GetTempPath()) ('rebundle-pester-sshd-' + [guid]::NewGuid().ToString('n').Substring(0, 8))
    $bin = Join-Path $root 'bin'
    $state = Join-Path $root 'state'
    New-Item -ItemType Directory -Path $bin, $state | Out-Null
    $fakes = Join-Path $PSScriptRoot '../../Rebundle.Ssh.Tests/Fakes'
    foreach ($fake in Get-ChildItem $fakes -File) {
        Copy-Item $fake.FullName $bin
        & chmod 755 (Join-Path $bin $fake.Name)
    }
    foreach ($key in 'host_ed25519', 'user_ed25519') {
        & ssh-keygen -q -t ed25519 -N '' -C $key -f (Join-Path $root $key)
        if ($LASTEXITCODE -ne 0) { throw "ssh-keygen failed for $key" }
    }
    & ssh-keygen -q -t ed25519 -N 'pester passphrase' -C user_encrypted -f (Join-Path $root 'user_encrypted')
    Get-Content (Join-Path $root 'user_ed25519.pub'), (Join-Path $root 'user_encrypted.pub') | Set-Content (Join-Path $root 'authorized_keys')

    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
    $config = Join-Path $root 'sshd_config'
    @"
Port $port
ListenAddress 127.0.0.1
HostKey $root/host_ed25519
PidFile $root/sshd.pid
AuthorizedKeysFile $root/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
MaxStartups 100
MaxSessions 100
SetEnv PATH=$($bin):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin FAKE_STATE=$state FAKE_SSHD_ROOT=$root
LogLevel VERBOSE
"@ | Set-Content $config
    if ((& id -u) -eq '0') { New-Item -ItemType Directory -Force -Path /run/sshd | Out-Null }

    $process = Start-TestSshdProcess $root $port

    $hostKey = (Get-Content (Join-Path $root 'host_ed25519.pub') -Raw).Split(' ')
    $knownHosts = Join-Path $root 'known_hosts'
    "[127.0.0.1]:$port $($hostKey[0]) $($hostKey[1])" | Set-Content $knownHosts
    [pscustomobject]@{
        Process            = $process
        Root               = $root
        State              = $state
        ChefCache          = Join-Path $state 'chef'
        Port               = $port
        User               = (& id -un)
        KeyFile            = Join-Path $root 'user_ed25519'
        EncryptedKeyFile   = Join-Path $root 'user_encrypted'
        Passphrase         = 'pester passphrase'
        KnownHostsFile     = $knownHosts
        HostKeyFingerprint = (& ssh-keygen -l -E sha256 -f (Join-Path $root 'host_ed25519.pub')).Split(' ')[1]
    }
}

# Starts sshd in the foreground from $Root's sshd_config and waits until it answers on $Port.
function Start-TestSshdProcess([string] $Root, [int] $Port) {
    $log = Join-Path $Root 'sshd.log'
    $process = Start-Process -FilePath /usr/sbin/sshd -ArgumentList '-D', '-E', $log, '-f', (Join-Path $Root 'sshd_config') -PassThru
    $deadline = [DateTime]::UtcNow.AddSeconds(15)
    while (-not (Test-TestSshdAnswers $Port)) {
        if ($process.HasExited) { throw "sshd exited: $(Get-Content $log -Raw)" }
        if ([DateTime]::UtcNow -gt $deadline) { throw "sshd did not listen on $Port within 15s: $(Get-Content $log -Raw)" }
        Start-Sleep -Milliseconds 100
    }
    $process
}

# Whether sshd answers on $Port with its banner now (the fake reboot takes it away for a while).
function Test-TestSshdAnswers([int] $Port) {
    try {
        $client = [Net.Sockets.TcpClient]::new('127.0.0.1', $Port)
        try {
            $stream = $client.GetStream(); $stream.ReadTimeout = 2000
            return $stream.Read([byte[]]::new(64), 0, 64) -gt 0
        }
        finally { $client.Dispose() }
    }
    catch { return $false }
}

# The live process whose pid the file in $Root holds (sshd.pid, or a fake reboot's restart.pid).
function Get-TestSshdPidProcess([string] $Root, [string] $PidFile) {
    $path = Join-Path $Root $PidFile
    if (-not (Test-Path $path)) { return $null }
    Get-Process -Id ([int](Get-Content $path -Raw).Trim()) -ErrorAction SilentlyContinue
}

# Puts the fakes back to a healthy server: answering, old boot time, nothing installed, Chef done.
function Reset-TestSshdState($Sshd) {
    # A reboot of an earlier test may still be pending (its restart would change the boot time
    # under this test) or may never come back: cancel it, and start sshd if it is down.
    $restart = Get-TestSshdPidProcess $Sshd.Root 'restart.pid'
    # It may end on its own between the look and the kill: a process already gone is fine here.
    if ($restart -and $restart.ProcessName -ne 'sshd') { Stop-Process -Id $restart.Id -Force -ErrorAction SilentlyContinue; $restart.WaitForExit(5000) | Out-Null }
    Remove-Item (Join-Path $Sshd.Root 'restart.pid') -ErrorAction SilentlyContinue
    if (-not (Test-TestSshdAnswers $Sshd.Port)) { $Sshd.Process = Start-TestSshdProcess $Sshd.Root $Sshd.Port }
    Get-ChildItem $Sshd.State | Remove-Item -Recurse -Force
    '2026-01-01 00:00:00' | Set-Content (Join-Path $Sshd.State 'boot-time')
    New-Item -ItemType Directory -Path (Join-Path $Sshd.ChefCache 'cookbooks') | Out-Null
}

function Stop-TestSshd($Sshd) {
    if (-not $Sshd) { return }
    # The sshd started here, or the one a fake reboot started, and a restart still pending.
    foreach ($pidFile in 'restart.pid', 'sshd.pid') {
        $process = Get-TestSshdPidProcess $Sshd.Root $pidFile
        if ($process) { Stop-Process -Id $process.Id -Force -ErrorAction SilentlyContinue }
    }
    # The pid-file kill above is usually this very process, and HasExited can still say false
    # for a moment after it: a process already gone is what this wants, not an error.
    if (-not $Sshd.Process.HasExited) { Stop-Process -Id $Sshd.Process.Id -Force -ErrorAction SilentlyContinue }
    $Sshd.Process.WaitForExit(5000) | Out-Null
    if ($Sshd) { Remove-Item $Sshd.Root -Recurse -Force -ErrorAction SilentlyContinue }
}
