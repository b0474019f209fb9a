oms_aws::sqs_main!(reservation::handle);
