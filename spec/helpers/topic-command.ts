/** Kafka's own TopicCommand, from the stack's jars, as an operator removing a space would run it. */
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { STACK_DIR, testEnv } from './env';

export function deleteTopicWithTopicCommand(topic: string): void {
  execFileSync(
    'java',
    [
      '-cp',
      path.join(STACK_DIR, 'kafka', 'libs', '*'),
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
