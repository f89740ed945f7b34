BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force

    # The page as a real browser builds it: headless Chromium's DOM after parsing (and after any
    # script would have run), so what is checked is what an operator sees, not our own text.
    function Get-RenderedDom([string] $Page) {
        $chromium = Get-Command chromium, chromium-browser -ErrorAction SilentlyContinue | Select-Object -First 1
        if (-not $chromium) { throw 'This test needs Chromium: install the chromium package (build.ps1 test does, with apt-get).' }
        $dom = & $chromium.Source --headless --no-sandbox --disable-gpu --dump-dom "file://$Page" 2>$null
        $results = Join-Path (Get-RepoRoot) 'out/test-results'
        New-Item -ItemType Directory -Force -Path $results | Out-Null
        & $chromium.Source --headless --no-sandbox --disable-gpu --window-size=1400,1000 "--screenshot=$(Join-Path $results 'fleet-report.png')" "file://$Page" 2>$null | Out-Null
        $dom -join "`n"
    }

    # Renames a farm role's alias in the Sandbox's file: the only way to put markup into a fleet
    # name, since role names cannot hold '<' (RoleName), but aliases and farm names are free text.
    function Rename-Alias([string] $StateFile, [string] $From, [string] $To) {
        $state = Get-Content $StateFile -Raw | ConvertFrom-Json -Depth 20
        foreach ($farmRole in $state.farmRoles | Where-Object alias -eq $From) { $farmRole.alias = $To }
        $state | ConvertTo-Json -Depth 20 | Set-Content $StateFile
    }
}

Describe 'Get-TtmFleetReport' {
    BeforeEach { $script:sandbox = New-TestSandbox }

    It 'shows the version tried on Dev, the server it left on the old image, and the promotion it waits for' {
        New-TtmRoleSnapshot -Farm Rebundle-Staging -Role Sidekiq | Set-TtmFarmRole -Farm Dev | Out-Null

        $dev = Get-TtmFleetReport -Farm Dev | Where-Object Alias -eq Sidekiq
        $dev.Role | Should -Be 'Sidekiq-1-7'
        $dev.DriftedServers | Should -Be @('Sidekiq.1')
        $dev.PendingPromotion | Should -Be '1-7'
        $production = Get-TtmFleetReport -Farm Production | Where-Object Alias -eq Sidekiq
        ($production.Version, $production.IsLatest, $production.Drift) | Should -Be @('1-6', $false, 0)
        (Get-TtmFleetReport -View Roles | Where-Object SafeToRetire).Role | Should -Be @('Sidekiq-1-6')
    }

    It 'fits both table views in 80 columns without cutting names' {
        foreach ($objects in @((Get-TtmFleetReport), (Get-TtmFleetReport -View Roles))) {
            $text = $objects | Out-String -Width 80
            $text -split "`n" | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }
            $text | Should -Not -Match '…'
        }
    }

    It 'says which farm was meant when -Farm names none' {
        $rows = Get-TtmFleetReport -Farm Prod -ErrorVariable missed -ErrorAction SilentlyContinue
        $rows | Should -BeNullOrEmpty
        $missed[0].FullyQualifiedErrorId | Should -BeLike 'TtmFarmNotFound*'
        $missed[0].Exception.Message | Should -Match "Did you mean 'Production'"
    }
}

Describe 'Get-TtmFleetReport -Html in a real browser' {
    BeforeAll {
        $script:sandbox = New-TestSandbox
        New-TtmRoleSnapshot -Farm Rebundle-Staging -Role Sidekiq | Set-TtmFarmRole -Farm Dev | Out-Null
        Rename-Alias $sandbox.StateFile 'DevDebug' "<script>document.title='pwned'</script>Debug"
        $script:page = Join-Path $sandbox.Path 'fleet report.html'
        $script:file = Get-TtmFleetReport -Html $page
        $script:dom = Get-RenderedDom $page
    }

    It 'returns the page it wrote' {
        $file.FullName | Should -Be $page
        Get-Content $page -Raw | Should -Not -Match 'https?://(?!www\.w3\.org/2000/svg)' -Because 'the page fetches nothing'
    }

    It 'shows one matrix cell per farm role with its version' {
        ([regex]::Matches($dom, '<td class="cell ')).Count | Should -Be 18
        $dom | Should -Match '<td class="cell age-fresh drift pending" data-farm="Dev" data-alias="Sidekiq"[^>]*><span class="version">1-7</span>'
        $dom | Should -Match 'data-farm="Production" data-alias="RailsAppServer"[^>]*><span class="version">1-6</span>.*?<span class="count">2/2</span>'
        $dom | Should -Match 'data-farm="Rebundle-Staging" data-alias="Sidekiq"[^>]*><span class="version">TTM-Base</span>'
    }

    It 'marks drift only where a server runs another image than its role' {
        $drifted = [regex]::Matches($dom, 'data-farm="([^"]+)" data-alias="([^"]+)"[^>]*>(?:(?!</td>).)*drift-mark') | ForEach-Object { $_.Groups[1].Value + '/' + $_.Groups[2].Value }
        $drifted | Should -Be @('Dev/Sidekiq')
        $dom | Should -Match '&#9888; 1 drifted|⚠ 1 drifted'
    }

    It 'plots every role version on the timeline by its image date' {
        $points = [regex]::Matches($dom, '<circle class="point[^"]*" data-role="([^"]+)"') | ForEach-Object { $_.Groups[1].Value }
        $points.Count | Should -Be 8
        $points | Should -Contain 'Sidekiq-1-7'
        $x = @{}
        foreach ($m in [regex]::Matches($dom, 'data-role="(Sidekiq-1-[67])"[^>]*cx="([\d.]+)"')) { $x[$m.Groups[1].Value] = [double] $m.Groups[2].Value }
        $x['Sidekiq-1-7'] | Should -BeGreaterThan $x['Sidekiq-1-6'] -Because 'the newer image is further right'
    }

    It 'lists the last audit entries and when and where it was taken' {
        $dom | Should -Match '<td>SetFarmRoleRole</td><td>Dev/Sidekiq</td><td>Sidekiq</td><td>Sidekiq-1-7</td>'
        $dom | Should -Match 'from <span class="backend">Sandbox</span>'
    }

    It 'keeps a name with a script in it as text: nothing runs' {
        $dom | Should -Not -Match '<script'
        $dom | Should -Match '<title>Fleet report, Sandbox'
        $dom | Should -Match "&lt;script&gt;document.title='pwned'&lt;/script&gt;Debug"
    }

    It 'prints on a landscape page' {
        Get-Content $page -Raw | Should -Match '@page\{size:A4 landscape'
    }
}
