# The AWS backend through the cmdlets, against the loopback EC2 endpoint in its own process:
# the same runbook scenario as the Sandbox, -WhatIf proven by the endpoint's request log,
# failures at connect time, injected faults.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'helpers/RunbookScenario.ps1')
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'helpers/Ec2Endpoint.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
    Set-Ec2TestCredentials
}

AfterAll {
    Stop-TestEc2Endpoint
    Restore-Ec2TestCredentials
}

Describe 'The runbook on AWS (loopback EC2 endpoint)' {
    Add-RunbookScenario -Connect {
        $script:ec2 = Start-TestEc2Endpoint
        Connect-TestEc2Fleet $script:ec2 | Out-Null
    }

    It 'left every server tagged as docs/aws.md says, readable by a later session' {
        Disconnect-TtmFleet
        Connect-TestEc2Fleet $script:ec2 | Out-Null
        (Get-TtmFarmRole -Farm Dev -Alias RailsAppServer).Role | Should -Be 'RailsAppServer-1-7'
        Get-TtmServer -Farm Production | Should -HaveCount 7
    }
}

Describe 'Connect-TtmFleet -Aws' {
    BeforeAll {
        $script:ec2 = Start-TestEc2Endpoint
    }

    It 'loads the AWS SDK only when -Aws is used' {
        $path = Join-Path $TestDrive 'sandbox'
        $loaded = Invoke-ChildRebundle "Connect-TtmFleet -Sandbox -Path '$path' | Out-Null; Get-TtmServer -Farm Dev | Out-Null; 'SDK:' + ([AppDomain]::CurrentDomain.GetAssemblies().GetName().Name -like 'AWSSDK*' -join ',')"
        $loaded | Where-Object { $_ -like 'SDK:*' } | Should -Be 'SDK:'
        $withAws = Invoke-ChildRebundle "Connect-TtmFleet -Aws -EndpointUrl '$($ec2.Url)' | Out-Null; 'SDK:' + ([AppDomain]::CurrentDomain.GetAssemblies().GetName().Name -like 'AWSSDK.EC2' -join ',')"
        $withAws | Where-Object { $_ -like 'SDK:*' } | Should -Be 'SDK:AWSSDK.EC2'
    }

    It 'assumes a role_arn + source_profile profile, AWSSDK.SecurityToken loaded from dependencies/ in the module''s context' {
        $config = Join-Path $TestDrive 'role-config'
        $credentials = Join-Path $TestDrive 'role-credentials'
        Set-Content -Path $credentials -Value "[source]`naws_access_key_id = AKIDTTMTESTKEY000001`naws_secret_access_key = ttm-loopback-secret-000001`n"
        Set-Content -Path $config -Value "[profile operator]`nrole_arn = arn:aws:iam::123456789012:role/rebundle-operator`nsource_profile = source`nregion = us-east-1`n"
        Clear-Ec2RequestLog $ec2

        $lines = Invoke-ChildRebundle ("`$env:AWS_CONFIG_FILE = '$config'; `$env:AWS_SHARED_CREDENTIALS_FILE = '$credentials'; `$env:AWS_ENDPOINT_URL_STS = '$($ec2.Url)'; " +
            "Connect-TtmFleet -Aws -ProfileName operator -EndpointUrl '$($ec2.Url)' | Out-Null; 'FARMS:' + ((Get-TtmFarm).Name -join ','); " +
            "'STS:' + (([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'AWSSDK.SecurityToken' } | ForEach-Object { [Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).Name }) -join ',')")

        $lines | Where-Object { $_ -like 'FARMS:*' } | Should -Be 'FARMS:Dev,Production,Rebundle-Staging' -Because ($lines -join "`n")
        $lines | Where-Object { $_ -like 'STS:*' } | Should -Be 'STS:Rebundle'
        $log = Get-Ec2RequestLog $ec2
        ($log | Where-Object action -eq 'AssumeRole').accessKey | Should -Be 'AKIDTTMTESTKEY000001'
        $log | Where-Object action -like 'Describe*' | ForEach-Object { $_.accessKey | Should -BeLike 'ASIA*' }
    }

    It 'connects through the credential chain and says where' {
        $connection = Connect-TestEc2Fleet $ec2
        $connection.Backend | Should -Be 'Aws'
        $connection.Location | Should -BeLike "*$($ec2.Url)*"
        (Get-TtmFarm).Name | Should -Be @('Dev', 'Production', 'Rebundle-Staging')
    }

    It 'uses the named profile of the shared credentials file, ahead of the environment' {
        $file = Join-Path $TestDrive 'credentials'
        Set-Content -Path $file -Value "[ops]`naws_access_key_id = AKIDTTMTESTKEY000001`naws_secret_access_key = ttm-loopback-secret-000001`n"
        $saved = $env:AWS_SHARED_CREDENTIALS_FILE, $env:AWS_ACCESS_KEY_ID
        try {
            $env:AWS_SHARED_CREDENTIALS_FILE = $file
            $env:AWS_ACCESS_KEY_ID = 'AKIDSOMEONEELSE00001'
            (Connect-TtmFleet -Aws -ProfileName ops -EndpointUrl $ec2.Url).Backend | Should -Be 'Aws'
            { Connect-TtmFleet -Aws -ProfileName nobody -EndpointUrl $ec2.Url -ErrorAction Stop } | Should -Throw -ErrorId 'TtmAccessDenied*'
        }
        finally { $env:AWS_SHARED_CREDENTIALS_FILE, $env:AWS_ACCESS_KEY_ID = $saved }
    }

    It 'fails at connect time, plainly, when no credentials can be found' {
        $saved = $env:AWS_ACCESS_KEY_ID, $env:AWS_SECRET_ACCESS_KEY
        try {
            $env:AWS_ACCESS_KEY_ID = $null; $env:AWS_SECRET_ACCESS_KEY = $null
            $record = $null
            try { Connect-TtmFleet -Aws -EndpointUrl $ec2.Url -ErrorAction Stop } catch { $record = $_ }
            $record.FullyQualifiedErrorId | Should -BeLike 'TtmAccessDenied*'
            $record.Exception.Message | Should -BeLike '*no AWS credentials were found*-ProfileName*'
        }
        finally { $env:AWS_ACCESS_KEY_ID, $env:AWS_SECRET_ACCESS_KEY = $saved }
    }

    It 'fails at connect time when nothing listens at the endpoint' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
        { Connect-TtmFleet -Aws -EndpointUrl "http://127.0.0.1:$port/" -ErrorAction Stop } |
            Should -Throw -ErrorId 'TtmConnectionFailed*'
    }

    It 'fails at connect time when the endpoint refuses the credentials' {
        $saved = $env:AWS_ACCESS_KEY_ID
        try {
            $env:AWS_ACCESS_KEY_ID = 'AKIDSOMEONEELSE00001'
            { Connect-TtmFleet -Aws -EndpointUrl $ec2.Url -ErrorAction Stop } | Should -Throw -ErrorId 'TtmAccessDenied*'
        }
        finally { $env:AWS_ACCESS_KEY_ID = $saved }
    }
}

Describe 'AWS changes with -WhatIf' {
    BeforeAll {
        $script:ec2 = Start-TestEc2Endpoint
        Connect-TestEc2Fleet $script:ec2 | Out-Null
    }

    It 'reads but sends no mutating request to EC2' {
        Clear-Ec2RequestLog $ec2
        Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base | New-TtmRoleSnapshot -ReplaceImage -WhatIf
        Get-TtmServer -Farm Rebundle-Staging | Where-Object Alias -ne 'TTM-Base' | New-TtmRoleSnapshot -WhatIf
        Get-TtmRole -Latest | Set-TtmFarmRole -Farm Dev -WhatIf -WarningAction SilentlyContinue
        Get-TtmRole -Latest | Set-TtmRoleImage -WhatIf
        Invoke-TtmRecycle -Farm Production, Dev -WhatIf

        $log = Get-Ec2RequestLog $ec2
        $log.action | Should -Contain 'DescribeInstances'
        $log | Where-Object mutating | Should -BeNullOrEmpty
    }
}

Describe 'AWS faults seen through the cmdlets' {
    BeforeAll {
        $script:ec2 = Start-TestEc2Endpoint
        Connect-TestEc2Fleet $script:ec2 | Out-Null
    }

    It 'answers throttling with retries' {
        Clear-Ec2RequestLog $ec2
        Set-Ec2Fault $ec2 -Throttle 2 -ThrottleAction DescribeInstances
        Get-TtmServer -Farm Dev | Should -HaveCount 6
        (Get-Ec2RequestLog $ec2 | Where-Object action -eq 'DescribeInstances').status | Should -Be @(503, 503, 200)
    }

    It 'leaves no role behind when the image fails' {
        Set-Ec2Fault $ec2 -FailImage 'Sidekiq-*'
        Get-TtmServer -Farm Rebundle-Staging -Role Sidekiq | New-TtmRoleSnapshot -Timeout '0:1:0' -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed | Should -HaveCount 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'TtmImageFailed*'
        Get-TtmRole -Name Sidekiq-1-7 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Get-Ec2RequestLog $ec2 | Where-Object action -eq 'CreateLaunchTemplate' | Should -BeNullOrEmpty
    }

    It 'keeps the old server when its replacement never runs' {
        $old = Get-TtmServer -Farm Dev -Role Reports
        Set-Ec2Fault $ec2 -StallLaunches 1
        { Invoke-TtmRecycle -Farm Dev -Role Reports -Timeout '0:0:3' -ErrorAction Stop } | Should -Throw -ErrorId 'TtmReplacementTimeout*'
        (Get-TtmServer -Farm Dev -Role Reports -Status Running).Id | Should -Be $old.Id
    }
}

Describe 'Invoke-TtmRebundle on AWS' {
    BeforeAll {
        $script:ec2 = Start-TestEc2Endpoint
        Connect-TestEc2Fleet $script:ec2 | Out-Null
        $script:journal = Join-Path $TestDrive 'rebundle.jsonl'
    }

    It '-WhatIf plans the whole run without one mutating request' {
        Clear-Ec2RequestLog $ec2
        Invoke-TtmRebundle -SkipOsUpdate -JournalPath $journal -WhatIf 6>&1 | Out-Null
        Get-Ec2RequestLog $ec2 | Where-Object mutating | Should -BeNullOrEmpty
        $journal | Should -Not -Exist
    }

    It 'checks its permissions first: every missing one in one TtmAccessDenied, with -WhatIf too, and nothing changed' {
        Set-Ec2Fault $ec2 -Deny 'CreateImage,RunInstances'
        try {
            Clear-Ec2RequestLog $ec2
            Invoke-TtmRebundle -SkipOsUpdate -JournalPath $journal -WhatIf -ErrorVariable denied -ErrorAction SilentlyContinue 6>$null | Out-Null
            $denied | Should -HaveCount 1
            $denied[0].FullyQualifiedErrorId | Should -BeLike 'TtmAccessDenied,*'
            $denied[0].Exception.Message | Should -BeLike '*Missing: ec2:CreateImage (snapshot servers); ec2:RunInstances (launch replacement servers).*'

            { Invoke-TtmRebundle -SkipOsUpdate -JournalPath $journal -ErrorAction Stop 6>$null } | Should -Throw -ErrorId 'TtmAccessDenied*'

            $log = Get-Ec2RequestLog $ec2
            $log | Where-Object mutating | Should -BeNullOrEmpty
            ($log | Where-Object errorCode -eq 'UnauthorizedOperation').action | Sort-Object -Unique | Should -Be @('CreateImage', 'RunInstances')
            $journal | Should -Not -Exist
        }
        finally { Set-Ec2Fault $ec2 -Deny '' }
    }

    It 'stops at the production gate, then resumed with approval finishes without snapshotting again' {
        $first = Invoke-TtmRebundle -SkipOsUpdate -BatchSize 3 -JournalPath $journal
        $first.Status | Should -Be 'WaitingForApproval'
        (Get-TtmFarmRole -Farm Dev -Alias RailsAppServer).Role | Should -Be 'RailsAppServer-1-7'
        Clear-Ec2RequestLog $ec2

        (Invoke-TtmRebundle -Resume $journal -ApproveProduction).Status | Should -Be 'Completed'

        # (The resumed run's permission check sends them with DryRun, which changes nothing.)
        Get-Ec2RequestLog $ec2 | Where-Object { $_.mutating -and $_.action -in 'CreateImage', 'CreateLaunchTemplate' } | Should -BeNullOrEmpty
        $image = (Get-TtmRole -Name RailsAppServer-1-7).ImageId
        (Get-TtmRole -Name RailsAppServer).ImageId | Should -Be $image
        (Get-TtmServer -Farm Production -Role RailsAppServer).ImageId | Sort-Object -Unique | Should -Be $image
        Get-TtmServer -Farm Production | Should -HaveCount 7
    }
}

Describe 'Undo and the audit log on AWS' {
    BeforeAll {
        $script:ec2 = Start-TestEc2Endpoint
        $script:audit = Join-Path $TestDrive 'audit.log'
        Connect-TtmFleet -Aws -EndpointUrl $script:ec2.Url -Region us-east-1 -PollInterval '0:0:0.2' -AuditLogPath $script:audit | Out-Null
        $script:journal = Join-Path $TestDrive 'rebundle.jsonl'
    }

    It 'Undo-TtmRebundle after promotion puts the launch templates back and recycles onto them' {
        $before = @{}; Get-TtmRole | ForEach-Object { $before[$_.Name] = $_.ImageId }
        Invoke-TtmRebundle -SkipOsUpdate -BatchSize 3 -JournalPath $journal -ApproveProduction | Out-Null
        (Get-TtmRole -Name Sidekiq).ImageId | Should -Not -Be $before['Sidekiq']

        Undo-TtmRebundle -Journal $journal -BatchSize 3 -Force | Out-Null

        Get-TtmRole | ForEach-Object { $_.ImageId | Should -Be $before[$_.Name] -Because "$($_.Name) launches from its old image again" }
        (Get-TtmFarmRole -Farm Dev -Alias Sidekiq).Role | Should -Be 'Sidekiq'
        (Get-TtmServer -Farm Production -Role Sidekiq).ImageId | Should -Be $before['Sidekiq']
    }

    It 'logged every change with the AWS backend, before and after' {
        $log = Get-TtmAuditLog -Path $audit
        $log.Backend | Sort-Object -Unique | Should -Be 'Aws'
        $log.Action | Sort-Object -Unique | Should -Be @('CreateImage', 'CreateRole', 'LaunchServer', 'SetFarmRoleRole', 'SetRoleImage', 'TerminateServer')
        $promotion = $log | Where-Object { $_.Action -eq 'SetRoleImage' -and $_.Target -eq 'role/RailsAppServer' }
        $promotion | Should -HaveCount 2 -Because 'promoted, then put back'
        $promotion[1].After | Should -Be $promotion[0].Before
    }
}

Describe 'Remove-TtmRoleVersion on AWS' {
    BeforeAll {
        $script:ec2 = Start-TestEc2Endpoint
        Connect-TestEc2Fleet $script:ec2 | Out-Null
    }

    It 'retires old versions, deregistering only the images no role launches from' {
        $lonely = (New-TtmRoleSnapshot -Farm Rebundle-Staging -Role NodeAppServer -Version 1-5).ImageId
        New-TtmRoleSnapshot -Farm Rebundle-Staging -Role NodeAppServer -Version 1-7 | Out-Null
        Clear-Ec2RequestLog $ec2

        $removed = Remove-TtmRoleVersion -Role NodeAppServer -KeepLatest 1 -Force

        $removed.Name | Sort-Object | Should -Be @('NodeAppServer-1-5', 'NodeAppServer-1-6')
        (Get-TtmRole -Name NodeAppServer -IncludeVersions).Name | Should -Be @('NodeAppServer', 'NodeAppServer-1-7')
        (Get-Ec2RequestLog $ec2 | Where-Object action -eq 'DeregisterImage').parameters.ImageId | Should -Be $lonely
    }
}

Describe 'A rebundle on AWS killed part way' {
    BeforeAll {
        function Start-ChildAwsRebundle([string] $Url, [string] $Folder) {
            $pwsh = Get-PwshCommand
            $journal = Join-Path $Folder 'j.jsonl'
            $full = "Import-Module '$(Get-RebundleModulePath)'; " +
                "Connect-TtmFleet -Aws -EndpointUrl '$Url' -Region us-east-1 -PollInterval '0:0:0.2' -AuditLogPath '$Folder/audit.log' | Out-Null; " +
                "Invoke-TtmRebundle -SkipOsUpdate -BatchSize 2 -JournalPath '$journal' -ApproveProduction | Out-Null"
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($full))
            Start-Process -FilePath $pwsh.Exe -ArgumentList (@($pwsh.Prefix) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded)) -PassThru `
                -RedirectStandardOutput (Join-Path $Folder 'child.out') -RedirectStandardError (Join-Path $Folder 'child.err')
        }
    }

    It 'resumes to a complete fleet with nothing made twice when killed after journal entry <Entry>' -ForEach @(@{ Entry = 5 }, @{ Entry = 16 }) {
        $ec2 = Start-TestEc2Endpoint
        $folder = Join-Path $TestDrive "kill-$Entry"
        New-Item -ItemType Directory -Path $folder | Out-Null
        $journal = Join-Path $folder 'j.jsonl'
        $child = Start-ChildAwsRebundle $ec2.Url $folder
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while (-not $child.HasExited -and [DateTime]::UtcNow -lt $deadline -and
               @(if (Test-Path $journal) { Get-Content $journal }).Count -lt $Entry) { Start-Sleep -Milliseconds 20 }
        $child.HasExited | Should -BeFalse -Because 'the run is killed before it finishes'
        $child.Kill($true)
        $child.WaitForExit()

        Connect-TestEc2Fleet $ec2 | Out-Null
        (Invoke-TtmRebundle -Resume $journal -ApproveProduction).Status | Should -Be 'Completed'

        $log = Get-Ec2RequestLog $ec2
        $images = $log | Where-Object { $_.action -eq 'CreateImage' -and $_.status -eq 200 } | ForEach-Object { $_.parameters.Name -replace '-\d{8}-\d{6}$', '' }
        $images | Sort-Object | Should -Be @('DevDebug-1-7', 'NodeAppServer-1-7', 'RailsAppServer-1-7', 'Sidekiq-1-7', 'SystemWatcher-1-7', 'TTM-Base')
        (Get-TtmRole -Latest).Name | Sort-Object | Should -Be @('DataLoad-1-6', 'DevDebug-1-7', 'NodeAppServer-1-7', 'RailsAppServer-1-7', 'Reports-1-6', 'Sidekiq-1-7', 'SystemWatcher-1-7')
        Get-TtmServer -Farm Rebundle-Staging | Should -HaveCount 6
        Get-TtmServer -Farm Dev | Should -HaveCount 6
        $production = Get-TtmServer -Farm Production
        $production | Should -HaveCount 7
        ($production | Where-Object Alias -eq 'RailsAppServer').ImageId | Sort-Object -Unique | Should -Be (Get-TtmRole -Name RailsAppServer-1-7).ImageId
    }
}
