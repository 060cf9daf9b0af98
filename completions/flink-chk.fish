# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_flink_chk_global_optspecs
    string join \n color= h/help V/version
end

function __fish_flink_chk_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_flink_chk_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_flink_chk_using_subcommand
    set -l cmd (__fish_flink_chk_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c flink-chk -n "__fish_flink_chk_needs_command" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "inspect" -d 'Show what a checkpoint or savepoint holds: format version, checkpoint id, kind, and per operator its id, uid, name, parallelism, state size and handle kinds'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "uid" -d 'Print the OperatorID Flink derives from each uid (murmur3_128 of the uid), to match operators in a snapshot to the uids set in the job'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "generate" -d 'Generate completion scripts and man pages into a directory'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l uids -d 'A file of uids (one per line) to name operators whose metadata carries no uid (files written before Flink 2.0)' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l rebase -d 'Rewrite absolute paths starting with FROM to start with TO (for snapshots moved since they were written). Repeatable' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l states -d 'Also list each operator\'s state names and kinds (reads the headers of state files; operator-state names come from `_metadata` itself)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l files -d 'Also list every referenced file (resolved location, size recorded in the handle, handle kind, operator and subtask)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l json -d 'Print JSON (the full parsed model plus derived fields) instead of tables'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand uid" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand uid" -l json -d 'Print JSON: `[{"uid": ..., "operator_id": ...}]`'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand uid" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand uid" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand completions" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand completions" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand generate" -l out-dir -d 'Output directory' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand generate" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand generate" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect uid completions generate help" -f -a "inspect" -d 'Show what a checkpoint or savepoint holds: format version, checkpoint id, kind, and per operator its id, uid, name, parallelism, state size and handle kinds'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect uid completions generate help" -f -a "uid" -d 'Print the OperatorID Flink derives from each uid (murmur3_128 of the uid), to match operators in a snapshot to the uids set in the job'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect uid completions generate help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect uid completions generate help" -f -a "generate" -d 'Generate completion scripts and man pages into a directory'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect uid completions generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
