#!/bin/sh
# Removing the app keeps each surveyor's interviews: they live in the user's data folder, not in
# the package, so that nothing unsent is lost by removing or upgrading. Say where, and how to wipe.
case "$1" in
    remove|purge|0)
        echo "职素 Zhisu: 平板上的答卷还保留在每个用户的 ~/.local/share/cn.zhisu.surveyor 里。" >&2
        echo "Zhisu: interviews stay in each user's ~/.local/share/cn.zhisu.surveyor." >&2
        echo "  After every interview is uploaded (or handed over as a backup), wipe them with:" >&2
        echo "  rm -rf ~/.local/share/cn.zhisu.surveyor" >&2
        ;;
esac
exit 0
