/* `candlewatch console`: a chat with the bot in the terminal, through the
 * same scripts, scheduler and store as on Telegram.  The Bot API is
 * answered in-process: what the bot sends is printed (buttons numbered),
 * and each line typed becomes an update (a button's number presses it).
 * Lines can come from a pipe, so a session can be scripted; at the end of
 * input the console leaves once the bot has nothing left to send.
 */
#ifndef CW_CONSOLE_H
#define CW_CONSOLE_H

struct app;

/* The app has its config loaded and nothing else.  Optionally replays
 * kline files meanwhile (speed 0: as fast as possible).  Exit status. */
int console_run(struct app *a, char **replay_files, int nfiles, double speed);

#endif
