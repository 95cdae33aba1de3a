/** Kafka's own TopicCommand, from the stack's jars, as an operator removing a space would run it. */
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { REPO_ROOT, testEnv } from './env';

const STACK = process.env.LOGWAY_STACK_DIR ?? path.join(REPO_ROOT, '.stack');

export function deleteTopicWithTopicCommand(topic: string): void {
  execFileSync(
    'java',
    [
      '-cp',
      path.join(STACK, 'kafka', 'libs', '*'),
      'org.apache.kafka.tools.TopicCommand',
      '--bootstrap-server',
      testEnv.KAFKA_BROKERS,
      '--delete',
      '--topic',
      topic,
    ],
    { stdio: 'ignore' },
  );
}
