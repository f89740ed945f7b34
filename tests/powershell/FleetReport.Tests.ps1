BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force

    # The page as a real browser builds it: headless Chromium's DOM after parsing (and after any
    # script would have run), so what is checked is what an operator sees, not our own text.
    function Get-RenderedDom([string] $Page, [string] $Screenshot = 'fleet-report.png') {
        $chromium = Get-Command chromium, chromium-browser -ErrorAction SilentlyContinue | Select-Object -First 1
        if (-not $chromium) { throw 'This test needs Chromium: install the chromium package (build.ps1 test does, with apt-get).' }
        $dom = & $chromium.Source --headless --no-sandbox --disable-gpu --window-size=1400,1000 --dump-dom "file://$Page" 2>$null
        $results = Join-Path (Get-RepoRoot) 'out/test-results'
        New-Item -ItemType Directory -Force -Path $results | Out-Null
        & $chromium.Source --headless --no-sandbox --disable-gpu --window-size=1400,1000 "--screenshot=$(Join-Path $results $Screenshot)" "file://$Page" 2>$null | Out-Null
        $dom -join "`n"
    }

    # The timeline's label boxes as the browser lays them out, in CSS pixels: a copy of the page
    # with a script that measures every version label and the SVG (getBoundingClientRect) and
    # writes the numbers into the DOM, which --dump-dom returns. Only the copy has a script.
    function Measure-TimelineLabels([string] $Page) {
        $measure = @'
<script>
(() => {
  const box = element => { const r = element.getBoundingClientRect(); return { left: r.left, top: r.top, right: r.right, bottom: r.bottom }; };
  const svg = document.querySelector('svg.timeline');
  const labels = [...svg.querySelectorAll('text.label')].map(t => Object.assign({ base: t.closest('g.base').dataset.base, version: t.textContent }, box(t)));
  const out = document.createElement('pre');
  out.id = 'measured';
  out.textContent = JSON.stringify({ svg: box(svg), labels });
  document.body.append(out);
})();
</script>
'@
        $copy = Join-Path (Split-Path $Page) 'measured timeline.html'
        (Get-Content $Page -Raw).Replace('</body>', "$measure</body>") | Set-Content $copy
        $dom = Get-RenderedDom $copy 'fleet-report-timeline.png'
        if ($dom -notmatch '<pre id="measured">(.*?)</pre>') { throw "The measuring script wrote nothing into the page: $copy" }
        [Net.WebUtility]::HtmlDecode($Matches[1]) | ConvertFrom-Json
    }

    # Sets the creation (and ready) time of the images of these roles in the Sandbox's file:
    # snapshots are made now, and a test of the timeline needs images of chosen dates.
    function Set-ImageDate([string] $StateFile, [string[]] $Roles, [DateTimeOffset] $CreatedAt) {
        $state = Get-Content $StateFile -Raw | ConvertFrom-Json -Depth 20
        $images = ($state.roles | Where-Object name -in $Roles).imageId
        foreach ($image in $state.images | Where-Object id -in $images) {
            $image.createdAt = $image.readyAt = $CreatedAt.ToString('o')
        }
        $state | ConvertTo-Json -Depth 20 | Set-Content $StateFile
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

Describe 'The -Html timeline in a real browser, with versions made on one day' {
    BeforeAll {
        $script:sandbox = New-TestSandbox
        $staging = Get-TtmServer -Farm Rebundle-Staging -Role RailsAppServer, Sidekiq
        $staging | New-TtmRoleSnapshot | Out-Null
        $staging | New-TtmRoleSnapshot | Out-Null
        New-TtmRoleSnapshot -Farm Rebundle-Staging -Role Sidekiq | Out-Null
        # The seeded versions a year old, so a day is two pixels on the axis; three Sidekiq
        # versions from one moment, two RailsAppServer versions a day apart.
        $now = [DateTimeOffset]::UtcNow
        $seeded = (Get-TtmFleetReport -View Roles | Where-Object Version -eq '1-6').Role
        Set-ImageDate $sandbox.StateFile $seeded $now.AddDays(-365)
        Set-ImageDate $sandbox.StateFile 'Sidekiq-1-7', 'Sidekiq-1-8', 'Sidekiq-1-9' $now.AddDays(-10)
        Set-ImageDate $sandbox.StateFile 'RailsAppServer-1-7' $now.AddDays(-3)
        Set-ImageDate $sandbox.StateFile 'RailsAppServer-1-8' $now.AddDays(-2)
        $script:versions = @(Get-TtmFleetReport -View Roles)
        $page = Join-Path $sandbox.Path 'fleet report.html'
        Get-TtmFleetReport -Html $page | Out-Null
        $script:measured = Measure-TimelineLabels $page
    }

    It 'has the versions it is about: three of one date, two a day apart' {
        ($versions | Where-Object BaseName -eq Sidekiq | Group-Object ImageCreatedAt | Where-Object Count -eq 3) | Should -Not -BeNullOrEmpty
        $rails = $versions | Where-Object Role -in 'RailsAppServer-1-7', 'RailsAppServer-1-8'
        ($rails[1].ImageCreatedAt - $rails[0].ImageCreatedAt).TotalDays | Should -Be 1
        $measured.labels.Count | Should -Be $versions.Count -Because 'every version has a label'
    }

    It 'draws no label over another' {
        $labels = $measured.labels
        $overlaps = for ($i = 0; $i -lt $labels.Count; $i++) {
            for ($j = $i + 1; $j -lt $labels.Count; $j++) {
                $a = $labels[$i]; $b = $labels[$j]
                if ($a.left -lt $b.right -and $b.left -lt $a.right -and $a.top -lt $b.bottom -and $b.top -lt $a.bottom) {
                    "$($a.base) $($a.version) and $($b.base) $($b.version)"
                }
            }
        }
        $overlaps | Should -BeNullOrEmpty
    }

    It 'keeps every label inside the SVG' {
        $svg = $measured.svg
        $outside = $measured.labels | Where-Object { $_.left -lt $svg.left -or $_.right -gt $svg.right -or $_.top -lt $svg.top -or $_.bottom -gt $svg.bottom } |
            ForEach-Object { "$($_.base) $($_.version)" }
        $outside | Should -BeNullOrEmpty
    }
}
