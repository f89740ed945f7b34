# The runbook (steps 1 and 4-8) walked through the cmdlets, the same on every backend.
# A backend's test file dot-sources this inside a Describe and calls Add-RunbookScenario
# with a script block that connects a fresh, seeded fleet of that backend.

function Add-RunbookScenario {
    param(
        [Parameter(Mandatory)] [scriptblock] $Connect,
        [int] $BatchSize = 3
    )

    Context 'the runbook, step by step' -ForEach @(@{ Connect = $Connect; BatchSize = $BatchSize }) {
        BeforeAll {
            & $Connect
            $script:stagingBefore = Get-TtmServer -Farm Rebundle-Staging
            $script:baseImageBefore = (Get-TtmRole -Name TTM-Base).ImageId
        }

        It 'step 1: snapshots the TTM-Base server into its own role with -ReplaceImage' {
            $role = Get-TtmServer -Farm Rebundle-Staging -Role TTM-Base | New-TtmRoleSnapshot -ReplaceImage -Timeout '0:2:0'
            $role.Name | Should -Be 'TTM-Base'
            $role.ImageId | Should -Not -Be $baseImageBefore
            (Get-TtmRole -Name TTM-Base).ImageId | Should -Be $role.ImageId
        }

        It 'step 4: recycles the staging farm onto the new base image' {
            $recycled = Invoke-TtmRecycle -Farm Rebundle-Staging -BatchSize $BatchSize -Timeout '0:2:0'
            $recycled | Should -HaveCount $stagingBefore.Count
            $after = Get-TtmServer -Farm Rebundle-Staging
            $after | Should -HaveCount $stagingBefore.Count
            $after.Id | Where-Object { $_ -in $stagingBefore.Id } | Should -BeNullOrEmpty
            $after.Status | Sort-Object -Unique | Should -Be 'Running'
            $after.ImageId | Sort-Object -Unique | Should -Be (Get-TtmRole -Name TTM-Base).ImageId
        }

        It 'step 5: snapshots every configured staging role as its next version' {
            $roles = Get-TtmServer -Farm Rebundle-Staging | Where-Object Alias -ne 'TTM-Base' | New-TtmRoleSnapshot -Timeout '0:2:0'
            $roles.Name | Sort-Object | Should -Be @('DevDebug-1-7', 'NodeAppServer-1-7', 'RailsAppServer-1-7', 'Sidekiq-1-7', 'SystemWatcher-1-7')
            (Get-TtmRole -Latest -Name RailsAppServer).Name | Should -Be 'RailsAppServer-1-7'
            (Get-TtmNextRoleVersion -Role RailsAppServer).NextVersion.ToString() | Should -Be '1-8'
        }

        It 'step 6: swaps the new versions into the Dev farm and recycles it' {
            Get-TtmRole -Latest | Set-TtmFarmRole -Farm Dev -WarningAction SilentlyContinue
            $dev = Get-TtmFarmRole -Farm Dev
            ($dev | Where-Object Alias -eq 'RailsAppServer').Role | Should -Be 'RailsAppServer-1-7'
            ($dev | Where-Object Alias -eq 'Reports').Role | Should -Be 'Reports-1-6'
            (Get-TtmFarmRole -Farm Production -Alias RailsAppServer).Role | Should -Be 'RailsAppServer'

            Invoke-TtmRecycle -Farm Dev -BatchSize $BatchSize -Timeout '0:2:0' | Should -HaveCount 6
            $rails = Get-TtmServer -Farm Dev -Role RailsAppServer
            $rails.Role | Should -Be 'RailsAppServer-1-7'
            $rails.ImageId | Should -Be (Get-TtmRole -Name RailsAppServer-1-7).ImageId
        }

        It 'step 7: production roles take the images of the versioned roles' {
            Get-TtmRole -Latest | Set-TtmRoleImage -Force
            foreach ($name in 'RailsAppServer', 'Sidekiq', 'NodeAppServer', 'DevDebug', 'SystemWatcher') {
                (Get-TtmRole -Name $name).ImageId | Should -Be (Get-TtmRole -Name "$name-1-7").ImageId -Because "$name takes the image of $name-1-7"
            }
        }

        It 'step 8: recycles Production and Dev onto the promoted images' {
            $before = Get-TtmServer -Farm Production
            $recycled = Invoke-TtmRecycle -Farm Production, Dev -BatchSize $BatchSize -Timeout '0:2:0' -Force
            ($recycled | Where-Object Farm -eq Production) | Should -HaveCount $before.Count
            $production = Get-TtmServer -Farm Production
            $production | Should -HaveCount $before.Count
            ($production | Where-Object Alias -eq 'RailsAppServer') | Should -HaveCount 2
            ($production | Where-Object Alias -eq 'RailsAppServer').ImageId | Sort-Object -Unique | Should -Be (Get-TtmRole -Name RailsAppServer-1-7).ImageId
        }
    }
}
