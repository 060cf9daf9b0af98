
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'flink-chk' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'flink-chk'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'flink-chk' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show what a checkpoint or savepoint holds: format version, checkpoint id, kind, and per operator its id, uid, name, parallelism, state size and handle kinds')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List jobs under a checkpoints root (job id, alias, checkpoints, latest completed, in progress, bytes, age), or one job''s checkpoints and savepoints (id, time, kind, size, whether the _metadata is readable, and with --verify whether every file each one needs is there)')
            [CompletionResult]::new('deps', 'deps', [CompletionResultType]::ParameterValue, 'What a snapshot depends on: its own files, the job''s shared/ and taskowned/ files, other jobs'' files (restore lineage), file-merging and changelog files, inline state')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Compare two snapshots and give the restore verdict: will Flink restore OLD into the job that NEW (a snapshot of it) or --job FILE describes?')
            [CompletionResult]::new('why', 'why', [CompletionResultType]::ParameterValue, 'Which snapshots reference a file, or anything under a directory')
            [CompletionResult]::new('safe-to-delete', 'safe-to-delete', [CompletionResultType]::ParameterValue, 'Clean up checkpoint storage: plan what no kept snapshot needs, show it, ask, re-check, delete')
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy snapshots with everything they need to another root, cluster or bucket, rewriting the paths in `_metadata`')
            [CompletionResult]::new('relocate', 'relocate', [CompletionResultType]::ParameterValue, 'Write a snapshot''s rewritten `_metadata` for data another tool already moved (distcp, rclone, `cp -r`, bucket replication)')
            [CompletionResult]::new('replicate', 'replicate', [CompletionResultType]::ParameterValue, 'Keep a restorable standby copy of every job''s newest snapshots at another root, cluster or bucket')
            [CompletionResult]::new('refs', 'refs', [CompletionResultType]::ParameterValue, 'Reference sets of kept snapshots, for engines that run the cleanup''s anti-join at scale')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'Manage profiles: named environments with checkpoint and savepoint roots, storage settings, job aliases and retention')
            [CompletionResult]::new('uid', 'uid', [CompletionResultType]::ParameterValue, 'Print the OperatorID Flink derives from each uid (murmur3_128 of the uid), to match operators in a snapshot to the uids set in the job')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Generate completion scripts and man pages into a directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flink-chk;inspect' {
            [CompletionResult]::new('--uids', '--uids', [CompletionResultType]::ParameterName, 'A file of uids (one per line) to name operators whose metadata carries no uid (files written before Flink 2.0)')
            [CompletionResult]::new('--rebase', '--rebase', [CompletionResultType]::ParameterName, 'Rewrite absolute paths starting with FROM to start with TO (for snapshots moved since they were written). Repeatable')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--states', '--states', [CompletionResultType]::ParameterName, 'Also list each operator''s state names and kinds (reads the headers of state files; operator-state names come from `_metadata` itself)')
            [CompletionResult]::new('--files', '--files', [CompletionResultType]::ParameterName, 'Also list every referenced file (resolved location, size recorded in the handle, handle kind, operator and subtask)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON (the full parsed model plus derived fields) instead of tables')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;ls' {
            [CompletionResult]::new('--rebase', '--rebase', [CompletionResultType]::ParameterName, 'With --verify: read files recorded under FROM at TO instead (for trees moved after Flink wrote them)')
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'Sizes and snapshots of a root as a storage inventory report lists them (as `safe-to-delete --inventory` reads one), instead of listing every file: as of the report''s time')
            [CompletionResult]::new('--inventory-time', '--inventory-time', [CompletionResultType]::ParameterName, 'When the --inventory listing was taken (RFC 3339), for oiv, CSV and Parquet files')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--verify', '--verify', [CompletionResultType]::ParameterName, 'Check, for each of the job''s snapshots with a readable _metadata, that every file it needs exists with the size its handle records, as `deps --verify` does (each distinct file is asked about once; --concurrency requests in flight)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;deps' {
            [CompletionResult]::new('--rebase', '--rebase', [CompletionResultType]::ParameterName, 'Read files recorded under FROM at TO instead (for snapshots moved after Flink wrote them)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--files', '--files', [CompletionResultType]::ParameterName, 'List every file')
            [CompletionResult]::new('--verify', '--verify', [CompletionResultType]::ParameterName, 'Check that every file exists with the size its handle records')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;diff' {
            [CompletionResult]::new('--job', '--job', [CompletionResultType]::ParameterName, 'Describe the new job in a YAML/JSON file instead of a snapshot of it')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'The new job''s state backend (when NEW does not tell, e.g. a canonical savepoint)')
            [CompletionResult]::new('--uids', '--uids', [CompletionResultType]::ParameterName, 'A file of uids (one per line) naming operators of either side whose metadata carries no uid (files written before Flink 2.0)')
            [CompletionResult]::new('--rebase', '--rebase', [CompletionResultType]::ParameterName, 'Read files recorded under FROM at TO instead (for snapshots moved since Flink wrote them). Repeatable')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--files', '--files', [CompletionResultType]::ParameterName, 'Also compare the files both snapshots reference: added (uploaded by NEW), dropped, reused (for two checkpoints of one incremental job)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The restore will pass --allowNonRestoredState: removed operators'' state is dropped (a warning, not a refusal)')
            [CompletionResult]::new('--allow-non-restored-state', '--allow-non-restored-state', [CompletionResultType]::ParameterName, 'The restore will pass --allowNonRestoredState: removed operators'' state is dropped (a warning, not a refusal)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Exit 1 when the verdict is compatible but there are warnings (state the new job would ignore or lose)')
            [CompletionResult]::new('--no-states', '--no-states', [CompletionResultType]::ParameterName, 'Do not read state-file headers (no keyed state names; faster on remote storage)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;why' {
            [CompletionResult]::new('--in', '--in', [CompletionResultType]::ParameterName, 'Where to look for snapshots (a root, job directory or reference); repeatable')
            [CompletionResult]::new('--rebase', '--rebase', [CompletionResultType]::ParameterName, 'Read files recorded under FROM at TO (for snapshots moved after Flink wrote them)')
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'Find the snapshots without listing every file: the job and checkpoint directories are listed live, and the `_metadata` files an inventory report (as for safe-to-delete --inventory) shows elsewhere (copies outside Flink''s layout) are read if still there')
            [CompletionResult]::new('--inventory-time', '--inventory-time', [CompletionResultType]::ParameterName, 'When the --inventory listing was taken (RFC 3339), for oiv, CSV and Parquet files')
            [CompletionResult]::new('--max-inventory-age', '--max-inventory-age', [CompletionResultType]::ParameterName, 'Refuse an --inventory older than this')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;safe-to-delete' {
            [CompletionResult]::new('--keep-last', '--keep-last', [CompletionResultType]::ParameterName, 'Completed checkpoints kept per job, at least 1 [default: the profile''s retention.keep_last, else 3]')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'A snapshot always kept (alias@chk-N, a chk-N/ or savepoint directory). Repeatable; adds to the profile''s retention.keep')
            [CompletionResult]::new('--min-age', '--min-age', [CompletionResultType]::ParameterName, 'Files younger than this are kept: a whole number with s, m, h or d, as in the profile [default: the profile''s retention.min_age, else 1h]')
            [CompletionResult]::new('--include-savepoint', '--include-savepoint', [CompletionResultType]::ParameterName, 'A savepoint (directory name) that may be deleted. Repeatable')
            [CompletionResult]::new('--drop-job', '--drop-job', [CompletionResultType]::ParameterName, 'A job (alias or id) that is gone for good: its snapshots are no longer kept, only what other jobs'' kept snapshots reference survives. Repeatable')
            [CompletionResult]::new('--rebase', '--rebase', [CompletionResultType]::ParameterName, 'Read files recorded under FROM at TO instead (snapshots moved since Flink wrote them). Repeatable')
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'Plan from a storage inventory report instead of listing every file: an S3 Inventory manifest.json (also OSS, OBS, S3-compatible stores; CSV or Parquet), a GCS inventory report manifest, an Azure blob inventory <rule>-manifest.json, an `hdfs oiv -p Delimited` dump, or a CSV or Parquet file with the columns path,size,last_modified. A path or URI. Only job and checkpoint directories are listed live, and every kept _metadata is read live; ages count from the inventory''s time')
            [CompletionResult]::new('--apply-candidates', '--apply-candidates', [CompletionResultType]::ParameterName, 'Re-check and delete the rows another engine selected (the output of the SQL `refs export --emit-sql` prints: a CSV with the header path,size,last_modified). A path or URI. The rows are planned again as an --inventory would be (references read live, layout, ages, and every candidate checked live before it is deleted): the engine only narrows, it never decides')
            [CompletionResult]::new('--inventory-time', '--inventory-time', [CompletionResultType]::ParameterName, 'When the --inventory listing was taken (RFC 3339), for oiv, CSV and Parquet files [default: the file''s modification time]. Manifests (S3, GCS, Azure) give their own')
            [CompletionResult]::new('--max-inventory-age', '--max-inventory-age', [CompletionResultType]::ParameterName, 'Refuse an --inventory older than this (a warning above 48h), also when --apply reads a plan made from one: a whole number with s, m, h or d')
            [CompletionResult]::new('--plan-out', '--plan-out', [CompletionResultType]::ParameterName, 'Write the plan as JSON to FILE as well')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Apply a plan written earlier by --plan-out instead of planning now (re-checked against storage first: sizes, times, new snapshots)')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Append the deletion log (one JSON line per deleted file) to FILE [default: $XDG_STATE_HOME/flink-chk/deletions.log]')
            [CompletionResult]::new('--emit-manifest', '--emit-manifest', [CompletionResultType]::ParameterName, 'Delete nothing: re-check as a deletion would, then write the files that pass (whole checkpoint directories listed file by file) to FILE for the store''s batch service. s3-batch-tags: an S3 Batch Operations CSV manifest (bucket,key; keys URL-encoded) for a job that tags them, with FILE.operation.json (the tagging) and FILE.lifecycle.json (a rule expiring the tag) beside it; for s3:// and oss:// roots. gcs-batch: a Cloud Storage batch operations manifest (bucket,name,generation) for a delete job; for gs:// roots. Needs a reviewed plan: --apply PLAN, --apply-candidates FILE or --yes. The batch service acts later, on a re-check that has aged (see the README)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--stopped', '--stopped', [CompletionResultType]::ParameterName, 'State that no job under the root is running: unreferenced taskowned/ files become candidates and ForSt working directories are allowed')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and stop: nothing is deleted, nothing asked')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Delete without asking (what the plan lists, after the re-check). For scripts')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Delete without asking (what the plan lists, after the re-check). For scripts')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'List every candidate, not only the first 30')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the plan as JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;copy' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Destination root: a path or URI, or PROFILE: (that profile''s checkpoints root, its savepoints root for savepoints, and its storage settings and credentials) or PROFILE:PATH (a path under that root, or a URI, with that profile''s storage settings)')
            [CompletionResult]::new('--map', '--map', [CompletionResultType]::ParameterName, 'Where files under FROM go (for files outside the snapshot''s root)')
            [CompletionResult]::new('--rebase', '--rebase', [CompletionResultType]::ParameterName, 'Read files recorded under FROM at TO instead (a snapshot moved after Flink wrote it)')
            [CompletionResult]::new('--layout', '--layout', [CompletionResultType]::ParameterName, 'mirror: the source tree under DEST. self-contained: every file in the snapshot''s own directory with relative handles, movable again with a plain directory copy (restore it with claim mode NO_CLAIM)')
            [CompletionResult]::new('--bwlimit', '--bwlimit', [CompletionResultType]::ParameterName, 'One byte budget for the whole run: bytes/s with K, M, G (powers of 1024), or a timetable "08:00,10M 20:00,off"')
            [CompletionResult]::new('--verify', '--verify', [CompletionResultType]::ParameterName, 'standard: size, and the MD5 the destination reports where it has one. full: also read every copied file back and compare its CRC32C')
            [CompletionResult]::new('--plan-out', '--plan-out', [CompletionResultType]::ParameterName, 'Write the data files as a `source,target` CSV (for distcp, s5cmd, rclone, azcopy); then publish with `flink-chk relocate`')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'The resume journal [default: $XDG_STATE_HOME/flink-chk/copy/<hash of DEST>.jsonl]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan (files, bytes, destinations, time at --bwlimit); copy nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;relocate' {
            [CompletionResult]::new('--map', '--map', [CompletionResultType]::ParameterName, 'Where files recorded under FROM are now (the longest FROM wins)')
            [CompletionResult]::new('--rebase', '--rebase', [CompletionResultType]::ParameterName, 'Read files recorded under FROM at TO instead, for reading the source')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check and show; write nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;replicate' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The replica: a path or URI, PROFILE: (that profile''s roots and storage settings) or PROFILE:PATH [default: the profile''s replication.to]')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Replicated checkpoints kept per job; older ones are pruned from the replica [default: the profile''s replication.keep; without either, nothing is pruned]')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between rounds with --watch: a number with s, m, h or d')
            [CompletionResult]::new('--prune-interval', '--prune-interval', [CompletionResultType]::ParameterName, 'With --watch and --keep: prune at most this often (pruning lists the whole replica)')
            [CompletionResult]::new('--promote', '--promote', [CompletionResultType]::ParameterName, 'Verify the newest complete replica of JOB (alias or id) and print how to restore it')
            [CompletionResult]::new('--priority', '--priority', [CompletionResultType]::ParameterName, 'A job''s priority, 0 to 9 (higher first) [default: the profile''s replication.priorities / priority, else 0]')
            [CompletionResult]::new('--bwlimit', '--bwlimit', [CompletionResultType]::ParameterName, 'One byte budget for all jobs: bytes/s with K, M, G (powers of 1024), or a timetable "08:00,10M 20:00,off" [default: the profile''s replication.bwlimit]')
            [CompletionResult]::new('--job-bwlimit', '--job-bwlimit', [CompletionResultType]::ParameterName, 'Each job''s own cap besides the shared budget [default: the profile''s replication.job_bwlimit]')
            [CompletionResult]::new('--control', '--control', [CompletionResultType]::ParameterName, 'A file holding a --bwlimit value, re-read whenever it changes')
            [CompletionResult]::new('--map', '--map', [CompletionResultType]::ParameterName, 'Where files under FROM go (files outside a snapshot''s root)')
            [CompletionResult]::new('--rebase', '--rebase', [CompletionResultType]::ParameterName, 'Read files recorded under FROM at TO instead')
            [CompletionResult]::new('--verify', '--verify', [CompletionResultType]::ParameterName, 'standard: size and the MD5 the replica''s store reports. full: also read every copied file back')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'The resume journal [default: $XDG_STATE_HOME/flink-chk/copy/<hash of DEST>.jsonl]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Prune without asking (needed to prune when not on a terminal)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Repeat every --interval until SIGINT/SIGTERM')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Show, per job, the newest source snapshot, the newest published replica, the lag (time and bytes) and what is in flight; copy nothing')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what a round would copy; copy nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON (with --watch: one line per round)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;refs' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write every file the kept snapshots reference (canonical paths, as safe-to-delete compares them) and the kept snapshot directories, as Parquet or CSV: columns kind (ref | kept_dir), path, snapshot')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flink-chk;refs;export' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'The export file (written beside as FILE.partial, renamed when complete)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'File format [default: from the extension of --out, .csv or .parquet; else parquet]')
            [CompletionResult]::new('--keep-last', '--keep-last', [CompletionResultType]::ParameterName, 'Completed checkpoints kept per job, at least 1 [default: the profile''s retention.keep_last, else 3]')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'A snapshot always kept (alias@chk-N, a chk-N/ or savepoint directory). Repeatable; adds to the profile''s retention.keep')
            [CompletionResult]::new('--min-age', '--min-age', [CompletionResultType]::ParameterName, 'Files younger than this are kept: a whole number with s, m, h or d, as in the profile [default: the profile''s retention.min_age, else 1h]')
            [CompletionResult]::new('--include-savepoint', '--include-savepoint', [CompletionResultType]::ParameterName, 'A savepoint (directory name) that may be deleted. Repeatable')
            [CompletionResult]::new('--drop-job', '--drop-job', [CompletionResultType]::ParameterName, 'A job (alias or id) that is gone for good: its snapshots are no longer kept, only what other jobs'' kept snapshots reference survives. Repeatable')
            [CompletionResult]::new('--rebase', '--rebase', [CompletionResultType]::ParameterName, 'Read files recorded under FROM at TO instead (snapshots moved since Flink wrote them). Repeatable')
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'The storage inventory report the SQL reads (an S3 Inventory manifest.json, a GCS inventory report manifest, an Azure <rule>-manifest.json, an `hdfs oiv -p Delimited` dump, or a CSV or Parquet path,size,last_modified; Parquet reports for spark only); its time is "now" for ages')
            [CompletionResult]::new('--inventory-time', '--inventory-time', [CompletionResultType]::ParameterName, 'When the --inventory listing was taken (RFC 3339), for oiv and CSV files [default: the file''s modification time]')
            [CompletionResult]::new('--max-inventory-age', '--max-inventory-age', [CompletionResultType]::ParameterName, 'Refuse an --inventory older than this: a whole number with s, m, h or d')
            [CompletionResult]::new('--emit-sql', '--emit-sql', [CompletionResultType]::ParameterName, 'Print the anti-join for this engine: flink (batch SQL), spark, trino. Needs --inventory')
            [CompletionResult]::new('--sql-out', '--sql-out', [CompletionResultType]::ParameterName, 'Write the SQL to FILE instead of stdout')
            [CompletionResult]::new('--sql-refs', '--sql-refs', [CompletionResultType]::ParameterName, 'Where the engine reads the export [default: --out as a local file]')
            [CompletionResult]::new('--sql-candidates', '--sql-candidates', [CompletionResultType]::ParameterName, 'The directory the engine writes the candidates CSV into [default: FILE.candidates beside --out]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--stopped', '--stopped', [CompletionResultType]::ParameterName, 'State that no job under the root is running: unreferenced taskowned/ files become candidates and ForSt working directories are allowed')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON summary')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;refs;help' {
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write every file the kept snapshots reference (canonical paths, as safe-to-delete compares them) and the kept snapshot directories, as Parquet or CSV: columns kind (ref | kept_dir), path, snapshot')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flink-chk;refs;help;export' {
            break
        }
        'flink-chk;refs;help;help' {
            break
        }
        'flink-chk;profile' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one profile (secrets masked)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the profiles file with one profile (asks on a terminal for what is not given)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a profile to the profiles file (keeps its comments)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the file and check that a profile''s roots can be listed')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the profiles file''s path')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flink-chk;profile;list' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;profile;show' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;profile;init' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Profile name')
            [CompletionResult]::new('--checkpoints', '--checkpoints', [CompletionResultType]::ParameterName, 'Checkpoint root (Flink''s execution.checkpointing.dir / state.checkpoints.dir)')
            [CompletionResult]::new('--savepoints', '--savepoints', [CompletionResultType]::ParameterName, 'Savepoint root (execution.checkpointing.savepoint-dir / state.savepoints.dir)')
            [CompletionResult]::new('--changelog', '--changelog', [CompletionResultType]::ParameterName, 'Changelog (DSTL) base path (state.changelog.dstl.dfs.base-path)')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'Description')
            [CompletionResult]::new('--s3-endpoint', '--s3-endpoint', [CompletionResultType]::ParameterName, 'S3 endpoint for S3-compatible stores (Flink''s s3.endpoint)')
            [CompletionResult]::new('--s3-region', '--s3-region', [CompletionResultType]::ParameterName, 'S3 region')
            [CompletionResult]::new('--job', '--job', [CompletionResultType]::ParameterName, 'A job alias (repeatable)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--s3-path-style', '--s3-path-style', [CompletionResultType]::ParameterName, 'Path-style S3 requests (s3.path.style.access)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing profiles file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;profile;add' {
            [CompletionResult]::new('--checkpoints', '--checkpoints', [CompletionResultType]::ParameterName, 'Checkpoint root (Flink''s execution.checkpointing.dir / state.checkpoints.dir)')
            [CompletionResult]::new('--savepoints', '--savepoints', [CompletionResultType]::ParameterName, 'Savepoint root (execution.checkpointing.savepoint-dir / state.savepoints.dir)')
            [CompletionResult]::new('--changelog', '--changelog', [CompletionResultType]::ParameterName, 'Changelog (DSTL) base path (state.changelog.dstl.dfs.base-path)')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'Description')
            [CompletionResult]::new('--s3-endpoint', '--s3-endpoint', [CompletionResultType]::ParameterName, 'S3 endpoint for S3-compatible stores (Flink''s s3.endpoint)')
            [CompletionResult]::new('--s3-region', '--s3-region', [CompletionResultType]::ParameterName, 'S3 region')
            [CompletionResult]::new('--job', '--job', [CompletionResultType]::ParameterName, 'A job alias (repeatable)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--s3-path-style', '--s3-path-style', [CompletionResultType]::ParameterName, 'Path-style S3 requests (s3.path.style.access)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;profile;check' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;profile;path' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;profile;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one profile (secrets masked)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the profiles file with one profile (asks on a terminal for what is not given)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a profile to the profiles file (keeps its comments)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the file and check that a profile''s roots can be listed')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the profiles file''s path')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flink-chk;profile;help;list' {
            break
        }
        'flink-chk;profile;help;show' {
            break
        }
        'flink-chk;profile;help;init' {
            break
        }
        'flink-chk;profile;help;add' {
            break
        }
        'flink-chk;profile;help;check' {
            break
        }
        'flink-chk;profile;help;path' {
            break
        }
        'flink-chk;profile;help;help' {
            break
        }
        'flink-chk;uid' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON: `[{"uid": ..., "operator_id": ...}]`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;completions' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;generate' {
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Output directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal and NO_COLOR unset), always, never')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use (default: the `default:` of the profiles file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'flink-chk;help' {
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show what a checkpoint or savepoint holds: format version, checkpoint id, kind, and per operator its id, uid, name, parallelism, state size and handle kinds')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List jobs under a checkpoints root (job id, alias, checkpoints, latest completed, in progress, bytes, age), or one job''s checkpoints and savepoints (id, time, kind, size, whether the _metadata is readable, and with --verify whether every file each one needs is there)')
            [CompletionResult]::new('deps', 'deps', [CompletionResultType]::ParameterValue, 'What a snapshot depends on: its own files, the job''s shared/ and taskowned/ files, other jobs'' files (restore lineage), file-merging and changelog files, inline state')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Compare two snapshots and give the restore verdict: will Flink restore OLD into the job that NEW (a snapshot of it) or --job FILE describes?')
            [CompletionResult]::new('why', 'why', [CompletionResultType]::ParameterValue, 'Which snapshots reference a file, or anything under a directory')
            [CompletionResult]::new('safe-to-delete', 'safe-to-delete', [CompletionResultType]::ParameterValue, 'Clean up checkpoint storage: plan what no kept snapshot needs, show it, ask, re-check, delete')
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy snapshots with everything they need to another root, cluster or bucket, rewriting the paths in `_metadata`')
            [CompletionResult]::new('relocate', 'relocate', [CompletionResultType]::ParameterValue, 'Write a snapshot''s rewritten `_metadata` for data another tool already moved (distcp, rclone, `cp -r`, bucket replication)')
            [CompletionResult]::new('replicate', 'replicate', [CompletionResultType]::ParameterValue, 'Keep a restorable standby copy of every job''s newest snapshots at another root, cluster or bucket')
            [CompletionResult]::new('refs', 'refs', [CompletionResultType]::ParameterValue, 'Reference sets of kept snapshots, for engines that run the cleanup''s anti-join at scale')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'Manage profiles: named environments with checkpoint and savepoint roots, storage settings, job aliases and retention')
            [CompletionResult]::new('uid', 'uid', [CompletionResultType]::ParameterValue, 'Print the OperatorID Flink derives from each uid (murmur3_128 of the uid), to match operators in a snapshot to the uids set in the job')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Generate completion scripts and man pages into a directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flink-chk;help;inspect' {
            break
        }
        'flink-chk;help;ls' {
            break
        }
        'flink-chk;help;deps' {
            break
        }
        'flink-chk;help;diff' {
            break
        }
        'flink-chk;help;why' {
            break
        }
        'flink-chk;help;safe-to-delete' {
            break
        }
        'flink-chk;help;copy' {
            break
        }
        'flink-chk;help;relocate' {
            break
        }
        'flink-chk;help;replicate' {
            break
        }
        'flink-chk;help;refs' {
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write every file the kept snapshots reference (canonical paths, as safe-to-delete compares them) and the kept snapshot directories, as Parquet or CSV: columns kind (ref | kept_dir), path, snapshot')
            break
        }
        'flink-chk;help;refs;export' {
            break
        }
        'flink-chk;help;profile' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one profile (secrets masked)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the profiles file with one profile (asks on a terminal for what is not given)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a profile to the profiles file (keeps its comments)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the file and check that a profile''s roots can be listed')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the profiles file''s path')
            break
        }
        'flink-chk;help;profile;list' {
            break
        }
        'flink-chk;help;profile;show' {
            break
        }
        'flink-chk;help;profile;init' {
            break
        }
        'flink-chk;help;profile;add' {
            break
        }
        'flink-chk;help;profile;check' {
            break
        }
        'flink-chk;help;profile;path' {
            break
        }
        'flink-chk;help;uid' {
            break
        }
        'flink-chk;help;completions' {
            break
        }
        'flink-chk;help;generate' {
            break
        }
        'flink-chk;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
